import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { type AdapterHealth, parseAdapterConfig, SimulatedAgencySystem } from '../../adapters';
import { type Discrepancy, unconfirmedTransfers } from '../../adapters/reconciliation/discrepancies';
import { DAY, isoIn } from '../conformance/fixtures';
import { GatewayHarness } from '../gateway/harness';
import { EXPORTER_USCC, PERSONAS } from '../gateway/personas';

const sha256 = (value: Buffer): string => createHash('sha256').update(value).digest('hex');

/**
 * Observe mode: customs and tax exchange over their own channel, and their adapters record both
 * ends. Reconciliation compares the sender's system, the ledger and the recipient's system.
 */
describe('reconciling the sender\'s system, the ledger and the recipient\'s system', function () {
    this.timeout(60_000);
    const customs = new SimulatedAgencySystem('CustomsMSP', 11);
    const tax = new SimulatedAgencySystem('TaxMSP', 11);
    let harness: GatewayHarness;
    const declaration = '220120264400000001';

    const run = async (name: string): Promise<void> => {
        await harness.adapters.adapters.get(name)?.run();
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
    };
    const payload = (messageId: string): Buffer => Buffer.from(`<报关单 编号="${declaration}" 报文="${messageId}"/>`);
    const deliverDirectly = (messageId: string): void => {
        tax.receive({ sender: 'CustomsMSP', messageId, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payload: payload(messageId).toString('base64') });
    };
    const sendHandoff = (messageId: string, overrides: Record<string, unknown> = {}): void => {
        customs.send({
            kind: 'handoff', messageId, recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration },
            payloadHash: sha256(payload(messageId)), size: payload(messageId).length, ...overrides,
        });
    };
    const health = async (name: string): Promise<AdapterHealth> => harness.adapters.adapters.get(name)?.health() as Promise<AdapterHealth>;

    before(async () => {
        const observe = (name: string, organisation: string, system: string, sends: string[], receives: string[]): Record<string, unknown> =>
            ({ name, organisation, transport: 'http-feed', system, schedule: '0 0 1 1 *', mode: 'observe', sends, receives });
        harness = await GatewayHarness.start({
            adapters: parseAdapterConfig({ adapters: [observe('customs', 'CustomsMSP', await customs.start(), ['EXPORT_DECLARATION'], []), observe('tax', 'TaxMSP', await tax.start(), [], ['EXPORT_DECLARATION'])] }),
        });
    });

    after(async () => {
        await harness?.stop();
        await Promise.all([customs.stop(), tax.stop()]);
    });

    it('keeps a receipt read before its send, and records it once the send is on the ledger', async () => {
        customs.send({ kind: 'document', type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: Buffer.from(declaration).toString('base64') });
        deliverDirectly('OBS-EARLY');
        await run('tax'); // tax's adapter reads the receipt and the decision first
        expect((await health('tax')).parked, 'receipt and decision wait for the send').to.equal(2);
        expect((await health('tax')).quarantined).to.equal(0);
        sendHandoff('OBS-EARLY');
        await run('customs');
        await run('tax');
        const row = await harness.database.pool.query<{ status: string; hash: string }>("SELECT status, record -> 'receipt' ->> 'payloadHash' AS hash FROM handoffs WHERE message_id = 'OBS-EARLY'");
        expect(row.rows[0]).to.deep.equal({ status: 'ACCEPTED', hash: sha256(payload('OBS-EARLY')) });
        expect((await health('tax')).parked).to.equal(0);
    });

    it('lists a transfer only the recipient\'s system knows of as RECIPIENT_ONLY, overdue after the grace period', async () => {
        deliverDirectly('OBS-ORPHAN'); // customs's system never lists it
        await run('customs');
        await run('tax');
        const tokens = await harness.personaTokens();
        const listed = await harness.request<{ items: Discrepancy[] }>('GET', '/v1/unconfirmed?recipient=TaxMSP&class=RECIPIENT_ONLY', { token: tokens.get('tax') });
        expect(listed.status).to.equal(200);
        expect(listed.body.items.map((item) => [item.sender, item.messageId, item.status, item.subject, item.overdue]))
            .to.deep.equal([['CustomsMSP', 'OBS-ORPHAN', 'NOT_ON_LEDGER', null, false]]);
        expect(listed.body.items[0]?.reason).to.match(/^NOT_FOUND/);
        const overdue = await unconfirmedTransfers(harness.database.pool, { class: 'RECIPIENT_ONLY', overdueOnly: true, graceSeconds: 0, limit: 10 });
        expect(overdue.map((item) => item.messageId)).to.deep.equal(['OBS-ORPHAN']);
    });

    it('lists what the sender\'s system sent but the ledger never recorded as NEVER_RECORDED: refused at once, missing its document after the grace period', async () => {
        sendHandoff('OBS-REFUSED', { subject: '91310000MA1FL0000X' }); // a USCC whose check character is wrong
        sendHandoff('OBS-NO-DOCUMENT', { document: { type: 'EXPORT_DECLARATION', number: '220120264400000999' } });
        await run('customs');
        expect(await health('customs')).to.include({ quarantined: 1, parked: 1 });
        const listed = await unconfirmedTransfers(harness.database.pool, { sender: 'CustomsMSP', class: 'NEVER_RECORDED', limit: 10 });
        expect(listed.map((item) => [item.messageId, item.recipient, item.overdue]).sort()).to.deep.equal([['OBS-NO-DOCUMENT', 'TaxMSP', false], ['OBS-REFUSED', 'TaxMSP', true]]);
        expect(listed.find((item) => item.messageId === 'OBS-REFUSED')?.reason).to.match(/^INVALID_ARGUMENT: subject/);

        // Reconciliation counts them, and opens no case: there is no handoff on the ledger for one.
        const admin = await harness.token(PERSONAS.customsAdmin);
        const report = await harness.request<{ offLedger: number; opened: number }>('POST', '/v1/reconciliation/runs', { token: admin });
        expect(report.body).to.include({ offLedger: 1, opened: 0 });

        // Once the declaration is on the ledger, the parked handoff goes through and leaves the list.
        customs.send({ kind: 'document', type: 'EXPORT_DECLARATION', number: '220120264400000999', holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: Buffer.from('999').toString('base64') });
        await run('customs');
        await run('customs');
        expect(await health('customs')).to.include({ parked: 0 });
        const after = await unconfirmedTransfers(harness.database.pool, { sender: 'CustomsMSP', class: 'NEVER_RECORDED', limit: 10 });
        expect(after.map((item) => item.messageId)).to.deep.equal(['OBS-REFUSED']);
        const recorded = await harness.database.pool.query("SELECT 1 FROM handoffs WHERE message_id = 'OBS-NO-DOCUMENT'");
        expect(recorded.rowCount).to.equal(1);
    });
});
