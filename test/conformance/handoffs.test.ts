import { expect } from 'chai';
import type { DeadlinePolicy, Deadlines, DocumentRecord, Handoff, Page } from '@counterfoil/chaincode';
import { type Actor, expectRefusal, sha256 } from './client';
import { contentOf, DAY, isoIn, unique } from './fixtures';
import { onEveryBackend } from './world';

onEveryBackend('handoffs', (world) => {
    let declaration: DocumentRecord;
    const payload = Buffer.from('<ExportDeclaration no="220120260000000001">…</ExportDeclaration>');
    const payloadHash = sha256(payload);

    before(async () => {
        const request = {
            type: 'EXPORT_DECLARATION', number: '220120260000000001', holder: world.exporterUscc,
            validFrom: isoIn(-DAY), validTo: isoIn(365 * DAY), summary: { port: '2201', goods: '热轧钢板' },
        };
        declaration = await world.customs.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
    });

    function send(recipient = 'TaxMSP', overrides: Record<string, unknown> = {}, sender: Actor = world.customs): Promise<Handoff> {
        return sender.submit<Handoff>('handoffs', 'Send', {
            messageId: unique('MSG'), recipient, subject: world.exporterUscc,
            document: { type: 'EXPORT_DECLARATION', number: declaration.number }, payloadHash, size: payload.length, ...overrides,
        });
    }

    function receipt(handoff: Handoff, hash = payloadHash, actor: Actor = world.tax): Promise<Handoff> {
        return actor.submit<Handoff>('handoffs', 'RecordReceipt', { sender: handoff.sender, messageId: handoff.messageId, payloadHash: hash });
    }

    function acknowledge(handoff: Handoff, decision = 'ACCEPTED', actor: Actor = world.tax, extra: Record<string, unknown> = {}): Promise<Handoff> {
        return actor.submit<Handoff>('handoffs', 'Acknowledge', { sender: handoff.sender, messageId: handoff.messageId, decision, ...extra });
    }

    it('records export data sent by customs to tax with deadlines from the default policy', async () => {
        const handoff = await send();
        expect(handoff).to.include({ sender: 'CustomsMSP', recipient: 'TaxMSP', status: 'SENT', subject: world.exporterUscc, payloadHash, retransmissions: 0 });
        expect(Date.parse(handoff.receiptDeadline) - Date.parse(handoff.sentAt)).to.equal(24 * 3600 * 1000);
        expect(Date.parse(handoff.acknowledgementDeadline) - Date.parse(handoff.sentAt)).to.equal(72 * 3600 * 1000);
        expect(handoff.deadlines.source).to.equal('default');
    });

    it('returns the existing handoff when the sender resends the same message id and content', async () => {
        const handoff = await send();
        const again = await world.customs.submit<Handoff>('handoffs', 'Send', {
            messageId: handoff.messageId, recipient: 'TaxMSP', subject: world.exporterUscc,
            document: { type: 'EXPORT_DECLARATION', number: declaration.number }, payloadHash, size: payload.length,
        });
        expect(again).to.deep.equal(handoff);
    });

    it('refuses a resent message id with different content as CONFLICT', async () => {
        const handoff = await send();
        await world.unchanged(() => expectRefusal(send('TaxMSP', { messageId: handoff.messageId, payloadHash: sha256('other') }), 'CONFLICT', 'messageId'));
    });

    it('scopes message ids by sender, so two agencies may use the same id', async () => {
        const messageId = unique('SHARED');
        const fromCustoms = await send('TaxMSP', { messageId });
        const fromTax = await send('ForexMSP', { messageId }, world.tax);
        expect(fromCustoms.sender).to.equal('CustomsMSP');
        expect(fromTax.sender).to.equal('TaxMSP');
    });

    it('marks a receipt with the matching hash RECEIVED and one with another hash MISMATCH', async () => {
        expect((await receipt(await send())).status).to.equal('RECEIVED');
        const mismatched = await receipt(await send(), sha256('truncated payload'));
        expect(mismatched.status).to.equal('MISMATCH');
        expect(mismatched.receipt).to.include({ matches: false, payloadHash: sha256('truncated payload') });
    });

    it('lets only the recipient record receipt: the sender, a third agency and the enterprise are refused', async () => {
        const handoff = await send();
        for (const actor of [world.customs, world.forex, world.exporter, world.auditor]) {
            await world.unchanged(() => expectRefusal(receipt(handoff, payloadHash, actor), 'FORBIDDEN', 'caller'));
        }
    });

    it('lets only the recipient acknowledge, after receipt', async () => {
        const handoff = await send();
        await world.unchanged(() => expectRefusal(acknowledge(handoff), 'FAILED_PRECONDITION', 'messageId'));
        await receipt(handoff);
        for (const actor of [world.customs, world.forex, world.exporter]) {
            await world.unchanged(() => expectRefusal(acknowledge(handoff, 'ACCEPTED', actor), 'FORBIDDEN', 'caller'));
        }
        const accepted = await acknowledge(handoff);
        expect(accepted.status).to.equal('ACCEPTED');
        expect(accepted.acknowledgement?.decision).to.equal('ACCEPTED');
    });

    it('refuses tax acknowledging a handoff addressed to forex', async () => {
        const handoff = await send('ForexMSP');
        await receipt(handoff, payloadHash, world.forex);
        await world.unchanged(() => expectRefusal(acknowledge(handoff, 'ACCEPTED', world.tax), 'FORBIDDEN', 'caller'));
    });

    it('requires a reason code and storable text to reject, and keeps the first decision', async () => {
        const handoff = await send();
        await receipt(handoff);
        await world.unchanged(() => expectRefusal(acknowledge(handoff, 'REJECTED'), 'INVALID_ARGUMENT', 'reasonCode'));
        await world.unchanged(() => expectRefusal(acknowledge(handoff, 'REJECTED', world.tax, { reasonCode: 'DATA_INCOMPLETE', text: '缺少\udc00发票号' }), 'INVALID_ARGUMENT', 'text'));
        const rejected = await acknowledge(handoff, 'REJECTED', world.tax, { reasonCode: 'DATA_INCOMPLETE', text: '缺少发票号' });
        expect(rejected.status).to.equal('REJECTED');
        expect(rejected.acknowledgement).to.include({ reasonCode: 'DATA_INCOMPLETE', text: '缺少发票号' });
        await world.unchanged(() => expectRefusal(acknowledge(handoff, 'ACCEPTED'), 'CONFLICT', 'decision'));
    });

    it('cannot acknowledge a mismatch until the sender retransmits and the content matches', async () => {
        const handoff = await send();
        await receipt(handoff, sha256('garbled'));
        await world.unchanged(() => expectRefusal(acknowledge(handoff), 'FAILED_PRECONDITION', 'messageId'));
        const retransmitted = await world.customs.submit<Handoff>('handoffs', 'Retransmit', { messageId: handoff.messageId, attempt: 1 });
        expect(retransmitted.status).to.equal('SENT');
        expect((await receipt(handoff)).status).to.equal('RECEIVED');
        expect((await acknowledge(handoff)).status).to.equal('ACCEPTED');
    });

    it('counts retransmissions once each, even when a retransmission is retried', async () => {
        const handoff = await send();
        const first = await world.customs.submit<Handoff>('handoffs', 'Retransmit', { messageId: handoff.messageId, attempt: 1 });
        const retried = await world.customs.submit<Handoff>('handoffs', 'Retransmit', { messageId: handoff.messageId, attempt: 1 });
        expect(first.retransmissions).to.equal(1);
        expect(retried.retransmissions).to.equal(1);
        await world.unchanged(() => expectRefusal(world.customs.submit('handoffs', 'Retransmit', { messageId: handoff.messageId, attempt: 3 }), 'CONFLICT', 'attempt'));
        const second = await world.customs.submit<Handoff>('handoffs', 'Retransmit', { messageId: handoff.messageId, attempt: 2 });
        expect(second.retransmissions).to.equal(2);
        expect(Date.parse(second.receiptDeadline)).to.be.at.least(Date.parse(handoff.receiptDeadline));
    });

    it('lets only the sender retransmit or cancel', async () => {
        const handoff = await send();
        await world.unchanged(() => expectRefusal(world.tax.submit('handoffs', 'Retransmit', { messageId: handoff.messageId, attempt: 1 }), 'NOT_FOUND', 'messageId'));
        await world.unchanged(() => expectRefusal(world.exporter.submit('handoffs', 'Cancel', { messageId: handoff.messageId, reason: 'x' }), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.auditor.submit('handoffs', 'Cancel', { messageId: handoff.messageId, reason: 'x' }), 'FORBIDDEN', 'caller'));
    });

    it('cancels a handoff, after which the recipient can no longer record receipt', async () => {
        const handoff = await send();
        const cancelled = await world.customs.submit<Handoff>('handoffs', 'Cancel', { messageId: handoff.messageId, reason: '重复发送' });
        expect(cancelled.status).to.equal('CANCELLED');
        await world.unchanged(() => expectRefusal(receipt(handoff), 'FAILED_PRECONDITION', 'messageId'));
    });

    it('cannot cancel a handoff the recipient already accepted', async () => {
        const handoff = await send();
        await receipt(handoff);
        await acknowledge(handoff);
        await world.unchanged(() => expectRefusal(world.customs.submit('handoffs', 'Cancel', { messageId: handoff.messageId, reason: 'late' }), 'FAILED_PRECONDITION', 'messageId'));
    });

    it('refuses a handoff to the sender itself, about another enterprise, or about an unknown document', async () => {
        await world.unchanged(() => expectRefusal(send('CustomsMSP'), 'INVALID_ARGUMENT', 'recipient'));
        await world.unchanged(() => expectRefusal(send('TaxMSP', { subject: world.otherUscc }), 'INVALID_ARGUMENT', 'subject'));
        await world.unchanged(() => expectRefusal(send('TaxMSP', { document: { type: 'EXPORT_DECLARATION', number: '220120269999999999' } }), 'NOT_FOUND', 'document'));
        await world.unchanged(() => expectRefusal(send('TaxMSP', { payloadHash: 'ABC' }), 'INVALID_ARGUMENT', 'payloadHash'));
        await world.unchanged(() => expectRefusal(send('TaxMSP', { size: -1 }), 'INVALID_ARGUMENT', 'size'));
        await world.unchanged(() => expectRefusal(send('PoliceMSP'), 'INVALID_ARGUMENT', 'recipient'));
    });

    it('lets an enterprise list only the handoffs it is the subject of', async () => {
        await send();
        const mine = await world.exporter.evaluate<Page<Handoff>>('handoffs', 'List', { subject: world.exporterUscc, pageSize: 200 });
        expect(mine.records.length).to.be.greaterThan(0);
        expect(mine.records.every((handoff) => handoff.subject === world.exporterUscc)).to.equal(true);
        await expectRefusal(world.otherEnterprise.evaluate('handoffs', 'List', { subject: world.exporterUscc }), 'FORBIDDEN', 'caller');
        const handoff = mine.records[0] as Handoff;
        await expectRefusal(world.otherEnterprise.evaluate('handoffs', 'Get', { sender: handoff.sender, messageId: handoff.messageId }), 'FORBIDDEN', 'caller');
    });

    it('keeps a handoff from agencies that are not party to it', async () => {
        const handoff = await send();
        await expectRefusal(world.commerce.evaluate('handoffs', 'Get', { sender: 'CustomsMSP', messageId: handoff.messageId }), 'FORBIDDEN', 'caller');
        await expectRefusal(world.commerce.evaluate('handoffs', 'List', { recipient: 'TaxMSP' }), 'FORBIDDEN', 'caller');
        expect((await world.auditor.evaluate<Handoff>('handoffs', 'Get', { sender: 'CustomsMSP', messageId: handoff.messageId })).messageId).to.equal(handoff.messageId);
    });

    it('lists an agency inbox, and its handoffs by status', async () => {
        const pending = await send('ForexMSP');
        const inbox = await world.forex.evaluate<Page<Handoff>>('handoffs', 'List', { recipient: 'ForexMSP', pageSize: 200 });
        expect(inbox.records.map((handoff) => handoff.messageId)).to.include(pending.messageId);
        await receipt(pending, payloadHash, world.forex);
        const received = await world.forex.evaluate<Page<Handoff>>('handoffs', 'List', { party: 'ForexMSP', status: 'RECEIVED', pageSize: 200 });
        expect(received.records.map((handoff) => handoff.messageId)).to.include(pending.messageId);
        const sent = await world.forex.evaluate<Page<Handoff>>('handoffs', 'List', { party: 'ForexMSP', status: 'SENT', pageSize: 200 });
        expect(sent.records.map((handoff) => handoff.messageId)).not.to.include(pending.messageId);
        const byDocument = await world.exporter.evaluate<Page<Handoff>>('handoffs', 'List', { document: { type: 'EXPORT_DECLARATION', number: declaration.number }, pageSize: 200 });
        expect(byDocument.records.map((handoff) => handoff.messageId)).to.include(pending.messageId);
    });

    it('takes deadlines from the most specific policy, which only an admin may set', async () => {
        const policy = { documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'ForexMSP', receiptSeconds: 3600, acknowledgementSeconds: 4 * 3600 };
        await world.unchanged(() => expectRefusal(world.customs.submit('policies', 'SetDeadlines', policy), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.commerceAdmin.submit('policies', 'SetDeadlines', policy), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.customsAdmin.submit('policies', 'SetDeadlines', { ...policy, acknowledgementSeconds: 60 }), 'INVALID_ARGUMENT', 'acknowledgementSeconds'));
        const set = await world.customsAdmin.submit<DeadlinePolicy>('policies', 'SetDeadlines', policy);
        expect(set.setBy).to.equal('CustomsMSP');
        await world.customsAdmin.submit('policies', 'SetDeadlines', { ...policy, sender: '*', recipient: '*', receiptSeconds: 7200, acknowledgementSeconds: 7200 });
        const specific = await send('ForexMSP');
        expect(specific.deadlines).to.deep.equal({ receiptSeconds: 3600, acknowledgementSeconds: 4 * 3600, source: 'EXPORT_DECLARATION/CustomsMSP/ForexMSP' });
        const general = await world.tax.evaluate<Deadlines>('policies', 'GetDeadlines', { documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'TaxMSP' });
        expect(general.source).to.equal('EXPORT_DECLARATION/*/*');
    });
});
