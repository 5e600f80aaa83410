import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { EVENT_NAMES } from '@counterfoil/chaincode';
import { auditLedger } from '../../gateway/audit/report';
import { declarationNumber, DAY, isoIn, permitRequest, STEEL } from '../conformance/fixtures';
import { certificateXml, makeSigner, signXml } from '../support/foreign-certificates';
import { GatewayHarness } from './harness';
import { EXPORTER_USCC, type Persona } from './personas';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

describe('every event the chaincode emits', function () {
    this.timeout(120_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();

    before(async () => {
        harness = await GatewayHarness.start();
        tokens = await harness.personaTokens();
    });

    after(async () => {
        await harness?.stop();
    });

    async function as(persona: Persona, method: string, path: string, body?: unknown): Promise<void> {
        const answer = await harness.request(method, path, { token: tokens.get(persona), body });
        expect(answer.status, `${method} ${path}: ${answer.text}`).to.be.oneOf([200, 201]);
    }

    it('reaches the query tables, which then equal the ledger\'s state row for row', async () => {
        // Every event name, through the API as its users would cause it.
        const licence = permitRequest({ holder: EXPORTER_USCC, goods: [{ hsCode: STEEL, quantity: 1000, unit: 'TNE' }] });
        await as('commerce', 'POST', '/v1/documents', { ...licence, content: 'bGljZW5jZQ==' });
        await as('commerce', 'POST', `/v1/documents/LICENCE/${licence.number}/amendments`, {
            expectedVersion: 1, validFrom: licence.validFrom, validTo: licence.validTo, permit: licence.permit, content: 'YW1lbmRlZA==',
        });
        const declared = declarationNumber();
        const verification = (declaration: string, quantity: number): Record<string, unknown> => ({
            declarationNumber: declaration, permit: { type: 'LICENCE', number: licence.number }, holder: EXPORTER_USCC, direction: 'EXPORT',
            goods: [{ hsCode: STEEL, quantity, unit: 'TNE' }], declaredAt: isoIn(-60_000), port: '2201',
        });
        await as('customs', 'POST', '/v1/verifications', verification(declared, 10));
        await as('customs', 'POST', '/v1/verifications', verification(declarationNumber(), 5000));
        await as('customs', 'POST', `/v1/verifications/${declared}/${licence.number}/release`, { reason: 'declaration cancelled' });
        const revoked = permitRequest({ holder: EXPORTER_USCC });
        await as('commerce', 'POST', '/v1/documents', { ...revoked, content: 'cmV2b2tlZA==' });
        await as('commerce', 'POST', `/v1/documents/LICENCE/${revoked.number}/revocation`, { reason: 'issued in error' });
        await as('customs', 'POST', '/v1/documents', { type: 'EXPORT_DECLARATION', number: declared, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: 'ZGF0YQ==' });
        const send = (messageId: string, recipient: string): Promise<void> => as('customs', 'POST', '/v1/handoffs', {
            messageId, recipient, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declared }, payloadHash: sha256(messageId), size: 1,
        });
        const step = (persona: Persona, messageId: string, name: string, body: unknown): Promise<void> => as(persona, 'POST', `/v1/handoffs/CustomsMSP/${messageId}/${name}`, body);
        await send('EVERY-TAX', 'TaxMSP');
        await step('tax', 'EVERY-TAX', 'receipt', { payloadHash: sha256('garbled') });
        await step('customs', 'EVERY-TAX', 'retransmissions', { attempt: 1 });
        await step('tax', 'EVERY-TAX', 'receipt', { payloadHash: sha256('EVERY-TAX') });
        await step('tax', 'EVERY-TAX', 'acknowledgement', { decision: 'ACCEPTED' });
        await send('EVERY-FOREX', 'ForexMSP');
        await step('forex', 'EVERY-FOREX', 'receipt', { payloadHash: sha256('EVERY-FOREX') });
        await step('forex', 'EVERY-FOREX', 'acknowledgement', { decision: 'REJECTED', reasonCode: 'DATA_INCOMPLETE', text: '缺少发票信息' });
        await send('EVERY-CANCELLED', 'ForexMSP');
        await step('customs', 'EVERY-CANCELLED', 'cancellation', { reason: 'sent twice' });
        const subject = { kind: 'HANDOFF', sender: 'CustomsMSP', messageId: 'EVERY-FOREX' };
        await as('forex', 'POST', '/v1/cases', { caseId: 'EVERY-CASE-1', subject, reason: 'DATA_ERROR' });
        await as('forex', 'POST', '/v1/cases/EVERY-CASE-1/messages', { sequence: 1, messageHash: sha256('the invoice is missing') });
        await as('exporter', 'POST', '/v1/cases/EVERY-CASE-1/messages', { sequence: 2, messageHash: sha256('sent again by post') });
        await as('exporter', 'POST', '/v1/cases/EVERY-CASE-1/thread', { text: 'the invoice, once more' });
        await as('exporter', 'POST', `/v1/documents/EXPORT_DECLARATION/${declared}/thread`, { text: '退税资料已补充' });
        await as('tax', 'POST', `/v1/documents/EXPORT_DECLARATION/${declared}/thread`, { text: 'received' });
        // The first case stays open on its messages: no later event restates it.
        await as('customs', 'POST', '/v1/cases', { caseId: 'EVERY-CASE-2', subject, reason: 'OTHER' });
        await as('customs', 'POST', '/v1/cases/EVERY-CASE-2/resolution', { resolutionCode: 'CORRECTED_AND_RESENT' });
        await as('exporter', 'POST', '/v1/cases', { caseId: 'EVERY-CASE-3', subject, reason: 'OTHER' });
        await as('exporter', 'POST', '/v1/cases/EVERY-CASE-3/withdrawal', {});
        await as('customsAdmin', 'POST', '/v1/deadline-policies', { documentType: 'LICENCE', sender: 'CommerceMSP', recipient: 'CustomsMSP', receiptSeconds: 3600, acknowledgementSeconds: 7200 });
        const signer = await makeSigner('CN=Certificates of Origin, O=Department of Foreign Trade, C=TH');
        await as('customsAdmin', 'POST', '/v1/authorities', { authorityId: 'TH-DFT', country: 'TH', name: 'Department of Foreign Trade', contact: 'eform-d@dft.example.th' });
        await as('customsAdmin', 'POST', '/v1/authorities/TH-DFT/signers', { certificate: signer.pem });
        // Received twice over: once as signed, once altered after signing (a verdict that opens a case).
        const origin = signXml(certificateXml({ kind: 'ORIGIN', number: 'TH-D-2026-1', authorityId: 'TH-DFT', issuedAt: isoIn(-60_000), consignee: EXPORTER_USCC }), signer);
        for (const xml of [origin, origin.replace('Wheat', 'Rice')]) {
            const received = await harness.request('POST', '/v1/foreign-certificates', { token: tokens.get('customs'), rawBody: xml, headers: { 'Content-Type': 'application/xml' } });
            expect(received.status, received.text).to.equal(201);
        }

        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        const logged = await harness.database.pool.query<{ name: string }>('SELECT DISTINCT name FROM ledger_events');
        expect(logged.rows.map((row) => row.name).sort(), 'every event name was caused and logged').to.deep.equal([...EVENT_NAMES].sort());
        const cases = await harness.request<{ items: { caseId: string; messageCount: number }[] }>('GET', '/v1/cases', { token: tokens.get('auditor') });
        expect(cases.body.items.find((item) => item.caseId === 'EVERY-CASE-1')?.messageCount).to.equal(3);
        const report = await auditLedger(harness.ledger.history, harness.database.pool);
        expect(report.queryTables, JSON.stringify(report.queryTables.divergences.slice(0, 3))).to.deep.equal({ compared: true, divergences: [] });
        expect(report.verdict).to.equal('CLEAN');
    });
});
