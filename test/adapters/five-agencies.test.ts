import { expect } from 'chai';
import { EXPORT_FLOW_AGENCIES, exportFlowAdapters, exportScenario, parseAdapterConfig, type ScenarioTotals, SimulatedAgencySystem } from '../../adapters';
import { GatewayHarness } from '../gateway/harness';
import { PERSONAS } from '../gateway/personas';

const DECLARATIONS = 30;
const ORDER = EXPORT_FLOW_AGENCIES.map((agency) => agency.name);

describe('five agencies exchanging through their adapters', function () {
    this.timeout(180_000);
    const systems = {
        commerce: new SimulatedAgencySystem('CommerceMSP', 2026),
        inspection: new SimulatedAgencySystem('InspectionMSP', 2026),
        customs: new SimulatedAgencySystem('CustomsMSP', 2026, { duplicatePercent: 10 }),
        tax: new SimulatedAgencySystem('TaxMSP', 2026, { corruptPercent: 10, rejectPercent: 10 }),
        forex: new SimulatedAgencySystem('ForexMSP', 2026, { dropPercent: 10 }),
    };
    let harness: GatewayHarness;
    let totals: ScenarioTotals;

    async function count(sql: string): Promise<number> {
        const result = await harness.database.pool.query<{ count: string }>(sql);
        return Number(result.rows[0]?.count ?? 0);
    }

    before(async () => {
        const adapters = await exportFlowAdapters(systems, { schedule: '*/5 * * * * *', maxDeliveryAttempts: 2, maxRetransmissions: 2 });
        harness = await GatewayHarness.start({ adapters: parseAdapterConfig({ adapters }) });
        const admin = await harness.token(PERSONAS.customsAdmin);
        await harness.request('POST', '/v1/deadline-policies', { token: admin, body: { documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'ForexMSP', receiptSeconds: 1, acknowledgementSeconds: 60 } });
        totals = exportScenario(systems, { seed: 2026, declarations: DECLARATIONS });
    });

    after(async () => {
        await harness?.stop();
        await Promise.all(Object.values(systems).map((system) => system.stop()));
    });

    it('carries licences, certificates, declarations, verifications and handoffs onto the ledger, each exactly once, and reconciles what is left', async () => {
        for (let round = 0; round < 6; round++) {
            for (const name of ORDER) {
                await harness.adapters.adapters.get(name)?.run();
                await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
            }
            await new Promise((resolve) => setTimeout(resolve, 400));
        }
        await new Promise((resolve) => setTimeout(resolve, 1200));
        const reconciliation = await harness.reconciler.run('test');

        const licences = await count("SELECT count(*) FROM documents WHERE type = 'LICENCE'");
        const certificates = await count("SELECT count(*) FROM documents WHERE type = 'ORIGIN_CERT'");
        const declarations = await count("SELECT count(*) FROM documents WHERE type = 'EXPORT_DECLARATION'");
        const valid = await count("SELECT count(*) FROM verifications WHERE verdict = 'VALID'");
        const sent = await count("SELECT count(*) FROM ledger_events WHERE name = 'HandoffSent'");
        const handoffs = await count('SELECT count(*) FROM handoffs');
        const decided = await count("SELECT count(*) FROM handoffs WHERE status IN ('ACCEPTED', 'REJECTED')");
        const lost = await count("SELECT count(*) FROM handoffs WHERE status = 'SENT'");
        const rejected = await count("SELECT count(*) FROM handoffs WHERE status = 'REJECTED'");
        const notDelivered = await count("SELECT count(*) FROM reconciliation_cases WHERE class = 'NOT_DELIVERED'");
        const rejectedCases = await count("SELECT count(*) FROM reconciliation_cases WHERE class = 'REJECTED'");
        const other = await count("SELECT count(*) FROM handoffs WHERE status NOT IN ('ACCEPTED', 'REJECTED', 'SENT')");
        console.log(`      tally: ${licences} licences, ${certificates} certificates, ${declarations} declarations, ${valid} valid verifications, `
            + `${handoffs} handoffs (${sent} sent events): ${decided} decided (${rejected} rejected), ${lost} lost at forex; `
            + `cases: ${notDelivered} not delivered, ${rejectedCases} rejected; ${reconciliation.opened} opened in the final run`);

        expect([licences, certificates, declarations]).to.deep.equal([totals.licences, totals.certificates, totals.declarations]);
        expect(valid, 'every verification found its licence').to.equal(DECLARATIONS);
        expect([handoffs, sent], 'every handoff once, duplicates notwithstanding').to.deep.equal([totals.handoffs, totals.handoffs]);
        expect(other, 'nothing left received-but-undecided or mismatched').to.equal(0);
        expect(decided + lost).to.equal(totals.handoffs);
        expect([notDelivered, rejectedCases], 'exactly one case per unconfirmed transfer').to.deep.equal([lost, rejected]);
        for (const [licence, quantity] of totals.drawn) {
            const row = await harness.database.pool.query<{ drawn: string }>("SELECT record -> 'permit' -> 'goods' -> 0 ->> 'drawn' AS drawn FROM documents WHERE type = 'LICENCE' AND number = $1::text", [licence]);
            expect(Number(row.rows[0]?.drawn), licence).to.equal(quantity);
        }
    });
});
