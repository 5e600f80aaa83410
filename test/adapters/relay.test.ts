import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { type AdapterConfig, type AdapterHealth, parseAdapterConfig, SimulatedAgencySystem, type TickReport } from '../../adapters';
import { DAY, isoIn } from '../conformance/fixtures';
import { exercised, GatewayHarness } from '../gateway/harness';
import { EXPORTER_USCC, PERSONAS } from '../gateway/personas';

const sha256 = (value: Buffer | string): string => createHash('sha256').update(value).digest('hex');
const DECLARATIONS = 20;

function adapterConfig(name: string, organisation: string, system: string, sends: string[], receives: string[]): Record<string, unknown> {
    return { name, organisation, transport: 'http-feed', system, schedule: '*/5 * * * * *', mode: 'relay', sends, receives, maxDeliveryAttempts: 2, maxRetransmissions: 2 };
}

describe('agency adapters relaying between simulated agency systems', function () {
    this.timeout(120_000);
    const customs = new SimulatedAgencySystem('CustomsMSP', 7, { duplicatePercent: 15 });
    const tax = new SimulatedAgencySystem('TaxMSP', 7, { corruptPercent: 25, rejectPercent: 20 });
    const forex = new SimulatedAgencySystem('ForexMSP', 7, { dropPercent: 25 });
    let harness: GatewayHarness;
    let configs: AdapterConfig[];
    const payloads = new Map<string, Buffer>();

    async function round(): Promise<TickReport[]> {
        const reports: TickReport[] = [];
        for (const name of ['customs', 'tax', 'forex']) {
            reports.push(await harness.adapters.adapters.get(name)?.run() as TickReport);
            await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        }
        return reports;
    }

    async function statuses(recipient: string): Promise<Map<string, { status: string; retransmissions: number }>> {
        const result = await harness.database.pool.query<{ message_id: string; status: string; retransmissions: number }>(
            "SELECT message_id, status, (record ->> 'retransmissions')::integer AS retransmissions FROM handoffs WHERE sender = 'CustomsMSP' AND recipient = $1::text", [recipient]);
        return new Map(result.rows.map((row) => [row.message_id, { status: row.status, retransmissions: row.retransmissions }]));
    }

    before(async () => {
        const urls = { customs: await customs.start(), tax: await tax.start(), forex: await forex.start() };
        configs = parseAdapterConfig({
            adapters: [
                adapterConfig('customs', 'CustomsMSP', urls.customs, ['EXPORT_DECLARATION'], []),
                adapterConfig('tax', 'TaxMSP', urls.tax, [], ['EXPORT_DECLARATION']),
                adapterConfig('forex', 'ForexMSP', urls.forex, [], ['EXPORT_DECLARATION']),
            ],
        });
        harness = await GatewayHarness.start({ adapters: configs });
        // Forex must confirm within a second, so what it drops is retransmitted, then reconciled.
        const admin = await harness.token(PERSONAS.customsAdmin);
        expect((await harness.request('POST', '/v1/deadline-policies', { token: admin, body: { documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'ForexMSP', receiptSeconds: 1, acknowledgementSeconds: 30 } })).status).to.equal(200);
        for (let index = 1; index <= DECLARATIONS; index++) {
            const number = `22012026800000${String(index).padStart(4, '0')}`;
            customs.send({ kind: 'document', type: 'EXPORT_DECLARATION', number, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(30 * DAY), summary: { exporter: '上海远洋贸易有限公司' }, content: Buffer.from(`报关单 ${number}`).toString('base64') });
            for (const recipient of ['TaxMSP', 'ForexMSP']) {
                const messageId = `EXP-${number}-${recipient}`;
                const payload = Buffer.from(`<报关单 编号="${number}" 收件="${recipient}"><货物>热轧钢板</货物></报关单>`);
                payloads.set(messageId, payload);
                customs.send({ kind: 'handoff', messageId, recipient, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number }, payload: payload.toString('base64') });
            }
        }
        customs.sendRaw({ kind: 'letter', to: 'TaxMSP' }); // not a record of the feed contract: quarantined
    });

    after(async () => {
        await harness?.stop();
        await Promise.all([customs.stop(), tax.stop(), forex.stop()]);
    });

    it('records every sent handoff on the ledger exactly once, duplicates and malformed records notwithstanding', async () => {
        const [first] = await round();
        expect(first?.quarantined).to.equal(1);
        const count = await harness.database.pool.query<{ handoffs: string; sent: string }>(
            "SELECT (SELECT count(*) FROM handoffs WHERE sender = 'CustomsMSP') AS handoffs, (SELECT count(*) FROM ledger_events WHERE name = 'HandoffSent') AS sent");
        expect(count.rows[0]).to.deep.equal({ handoffs: String(DECLARATIONS * 2), sent: String(DECLARATIONS * 2) });
    });

    it('delivers to each agency what was sent, heals damaged deliveries by retransmission, and records each decision', async () => {
        for (let index = 0; index < 6; index++) {
            await new Promise((resolve) => setTimeout(resolve, 400));
            await round();
        }
        const taxView = await statuses('TaxMSP');
        expect([...taxView.values()].every((entry) => entry.status === 'ACCEPTED' || entry.status === 'REJECTED'), JSON.stringify([...taxView])).to.equal(true);
        for (const [messageId, held] of tax.holdings()) {
            expect(sha256(held.payload), messageId).to.equal(sha256(payloads.get(messageId.split('/')[1] as string) as Buffer));
        }
        const healed = [...taxView.values()].filter((entry) => entry.retransmissions > 0).length;
        expect(healed, 'some deliveries to tax arrived damaged and were sent again').to.be.greaterThan(0);
        const forexView = await statuses('ForexMSP');
        const dropped = [...forexView.entries()].filter(([, entry]) => entry.status === 'SENT');
        expect(dropped.length, 'some deliveries to forex were lost there').to.be.greaterThan(0);
        expect(dropped.every(([, entry]) => entry.retransmissions === 2), 'retransmitted up to the limit').to.equal(true);
        expect([...forexView.values()].filter((entry) => entry.status !== 'SENT').every((entry) => entry.status === 'ACCEPTED' || entry.status === 'REJECTED')).to.equal(true);
        expect(forex.holdings().size).to.equal(DECLARATIONS - dropped.length);
    });

    it('turns every transfer still unconfirmed into a case of the right class', async () => {
        await new Promise((resolve) => setTimeout(resolve, 1200)); // past forex's deadline for the last retransmission
        const report = await harness.reconciler.run('test');
        const dropped = [...(await statuses('ForexMSP')).values()].filter((entry) => entry.status === 'SENT').length;
        const rejected = [...(await statuses('TaxMSP')).values()].filter((entry) => entry.status === 'REJECTED').length;
        expect(rejected, 'tax rejected some').to.be.greaterThan(0);
        expect(report.opened).to.equal(dropped + rejected);
        const cases = await harness.database.pool.query<{ class: string; count: string }>('SELECT class, count(*) FROM reconciliation_cases GROUP BY class ORDER BY class');
        expect(cases.rows).to.deep.equal([{ class: 'NOT_DELIVERED', count: String(dropped) }, { class: 'REJECTED', count: String(rejected) }]);
        expect((await harness.reconciler.run('test')).opened, 'a second run opens none').to.equal(0);
    });

    it('resumes from its cursors after a restart without recording anything twice', async () => {
        const before = await harness.ledger.info();
        const reports = await round();
        expect(reports.map((report) => report.recorded)).to.deep.equal([0, 0, 0]);
        const after = await harness.ledger.info();
        expect(after.height - before.height, 'no new transactions for work already done').to.equal(0n);
    });

    it('reports an agency system that is down, and recovers when it is back', async () => {
        tax.offline = true;
        let failed = false;
        try {
            await harness.adapters.adapters.get('tax')?.run();
        } catch {
            failed = true;
        }
        expect(failed).to.equal(true);
        const admin = await harness.token(PERSONAS.customsAdmin);
        const health = await harness.request<AdapterHealth[]>('GET', '/v1/adapters', { token: admin });
        const taxHealth = health.body.find((entry) => entry.name === 'tax');
        expect(taxHealth).to.deep.include({ consecutiveFailures: 1 });
        expect(taxHealth?.lastError).to.match(/503/);
        expect(health.body.find((entry) => entry.name === 'customs')?.quarantined).to.equal(1);
        tax.offline = false;
        const run = await harness.request<TickReport>('POST', '/v1/adapters/tax/runs', { token: admin });
        expect(run.status, run.text).to.equal(200);
        expect((await harness.request<AdapterHealth[]>('GET', '/v1/adapters', { token: admin })).body.find((entry) => entry.name === 'tax')?.consecutiveFailures).to.equal(0);
        expect((await harness.request('POST', '/v1/adapters/tax/runs', { token: await harness.token(PERSONAS.tax) })).status).to.equal(403);
        expect((await harness.request('POST', '/v1/adapters/nothing/runs', { token: admin })).status).to.equal(404);
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
        expect(harness.gateway.api.all.filter((route) => route.tag === 'Adapters').every((route) => seen.has(`${route.method.toUpperCase()} ${route.path}`))).to.equal(true);
    });

    it('refuses a configuration that breaks the rules, naming the field', () => {
        const valid = adapterConfig('tax', 'TaxMSP', 'http://127.0.0.1:1', [], ['EXPORT_DECLARATION']);
        const cases: [Record<string, unknown>, RegExp][] = [
            [{ ...valid, organisation: 'PoliceMSP' }, /adapters\[0\]\.organisation/],
            [{ ...valid, schedule: 'every minute' }, /adapters\[0\]\.schedule must be a cron expression/],
            [{ ...valid, mode: 'teleport' }, /adapters\[0\]\.mode/],
            [{ ...valid, colour: 'blue' }, /adapters\[0\]\.colour is not a known field/],
            [{ ...valid, system: 'ftp://agency' }, /adapters\[0\]\.system/],
        ];
        for (const [adapter, message] of cases) {
            expect(() => parseAdapterConfig({ adapters: [adapter] })).to.throw(message);
        }
        expect(() => parseAdapterConfig({ adapters: [valid, valid] })).to.throw(/adapters\[1\]\.name repeats tax/);
    });
});
