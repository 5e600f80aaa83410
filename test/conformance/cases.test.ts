import { expect } from 'chai';
import type { CaseMessage, CaseRecord, DocumentRecord, Handoff, Page, ThreadMessage } from '@counterfoil/chaincode';
import { expectRefusal, sha256 } from './client';
import { contentOf, DAY, isoIn, permitRequest, unique } from './fixtures';
import { onEveryBackend } from './world';

onEveryBackend('cases', (world) => {
    let declaration: DocumentRecord;

    before(async () => {
        const request = { type: 'EXPORT_DECLARATION', number: '530120260000000042', holder: world.exporterUscc, validFrom: isoIn(-DAY), validTo: isoIn(365 * DAY) };
        declaration = await world.customs.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
    });

    function send(): Promise<Handoff> {
        return world.customs.submit<Handoff>('handoffs', 'Send', {
            messageId: unique('MSG'), recipient: 'ForexMSP', subject: world.exporterUscc,
            document: { type: 'EXPORT_DECLARATION', number: declaration.number }, payloadHash: sha256('payload'), size: 7,
        });
    }

    function open(handoff: Handoff, actor = world.exporter, extra: Record<string, unknown> = {}): Promise<CaseRecord> {
        return actor.submit<CaseRecord>('cases', 'Open', {
            caseId: unique('CASE'), subject: { kind: 'HANDOFF', sender: handoff.sender, messageId: handoff.messageId }, reason: 'NOT_RECEIVED',
            statementHash: sha256('外汇局称未收到报关数据'), ...extra,
        });
    }

    it('lets the enterprise open a NOT_RECEIVED case on a handoff, with the sender, recipient and itself as parties', async () => {
        const opened = await open(await send());
        expect(opened.status).to.equal('OPEN');
        expect(opened.parties).to.deep.equal(['CustomsMSP', 'ForexMSP', world.exporterUscc].sort());
        expect(opened.openedBy).to.equal(world.exporterUscc);
    });

    it('refuses a case on a handoff from an agency or enterprise that is not party to it', async () => {
        const handoff = await send();
        await world.unchanged(() => expectRefusal(open(handoff, world.tax), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(open(handoff, world.otherEnterprise), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(open(handoff, world.auditor), 'FORBIDDEN', 'caller'));
    });

    it('lets reconciliation open a case, and returns the same case when it is opened again', async () => {
        const handoff = await send();
        const request = { caseId: `NR-${handoff.sender}-${handoff.messageId}`, subject: { kind: 'HANDOFF', sender: handoff.sender, messageId: handoff.messageId }, reason: 'NOT_RECEIVED' };
        const opened = await world.reconciler.submit<CaseRecord>('cases', 'Open', request);
        expect(opened.parties).to.deep.equal(['CustomsMSP', 'ForexMSP', world.exporterUscc].sort());
        expect(await world.reconciler.submit<CaseRecord>('cases', 'Open', request)).to.deep.equal(opened);
        await world.unchanged(() => expectRefusal(world.reconciler.submit('cases', 'Open', { ...request, reason: 'CONTENT_MISMATCH' }), 'CONFLICT', 'caseId'));
    });

    it('threads messages by hash for parties only, in sequence', async () => {
        const opened = await open(await send());
        const message = await world.forex.submit<CaseMessage>('cases', 'AddMessage', { caseId: opened.caseId, sequence: 1, messageHash: sha256('我局未收到该数据') });
        expect(message).to.include({ author: 'ForexMSP', sequence: 1 });
        await world.unchanged(() => expectRefusal(world.tax.submit('cases', 'AddMessage', { caseId: opened.caseId, sequence: 2, messageHash: sha256('x') }), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.customs.submit('cases', 'AddMessage', { caseId: opened.caseId, sequence: 5, messageHash: sha256('y') }), 'CONFLICT', 'sequence'));
        await world.customs.submit('cases', 'AddMessage', { caseId: opened.caseId, sequence: 2, messageHash: sha256('已重新发送') });
        const thread = await world.exporter.evaluate<Page<CaseMessage>>('cases', 'Messages', { caseId: opened.caseId });
        expect(thread.records.map((entry) => entry.author)).to.deep.equal(['ForexMSP', 'CustomsMSP']);
        await expectRefusal(world.tax.evaluate('cases', 'Messages', { caseId: opened.caseId }), 'FORBIDDEN', 'caller');
    });

    it('puts a message\'s attachments on the ledger as digests, and takes the same message again as a retry', async () => {
        const opened = await open(await send());
        const attachments = [{ sha256: sha256('%PDF-1.7 scan'), size: 13, mediaType: 'application/pdf' }];
        const request = { caseId: opened.caseId, sequence: 1, messageHash: sha256('见附件'), attachments };
        const message = await world.exporter.submit<CaseMessage>('cases', 'AddMessage', request);
        expect(message.attachments).to.deep.equal(attachments);
        expect(await world.exporter.submit<CaseMessage>('cases', 'AddMessage', request)).to.deep.equal(message);
        await world.unchanged(() => expectRefusal(world.exporter.submit('cases', 'AddMessage', { ...request, attachments: [] }), 'INVALID_ARGUMENT', 'attachments'));
        await world.unchanged(() => expectRefusal(world.exporter.submit('cases', 'AddMessage', { ...request, sequence: 2, attachments: [{ ...attachments[0], mediaType: 'text/html' }] }), 'INVALID_ARGUMENT', 'attachments[0].mediaType'));
        await world.unchanged(() => expectRefusal(world.exporter.submit('cases', 'AddMessage', { ...request, attachments: [{ ...attachments[0], size: 14 }] }), 'CONFLICT', 'sequence'));
    });

    it('gives a document a thread between its holder and the agencies of its collection, in sequence', async () => {
        const thread = { type: 'EXPORT_DECLARATION', number: declaration.number };
        const head = await world.tax.evaluate<{ parties: string[]; messageCount: number }>('threads', 'Head', thread);
        expect(head.parties).to.deep.equal(['CustomsMSP', 'ForexMSP', 'TaxMSP', world.exporterUscc].sort());
        const first = await world.exporter.submit<ThreadMessage>('threads', 'Post', { ...thread, sequence: head.messageCount + 1, messageHash: sha256('退税资料') });
        expect(first).to.include({ author: world.exporterUscc, sequence: head.messageCount + 1 });
        await world.unchanged(() => expectRefusal(world.commerce.submit('threads', 'Post', { ...thread, sequence: first.sequence + 1, messageHash: sha256('x') }), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.otherEnterprise.evaluate('threads', 'Messages', thread), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.tax.submit('threads', 'Post', { ...thread, sequence: first.sequence + 2, messageHash: sha256('y') }), 'CONFLICT', 'sequence'));
        await world.tax.submit('threads', 'Post', { ...thread, sequence: first.sequence + 1, messageHash: sha256('已收到') });
        const messages = await world.auditor.evaluate<Page<ThreadMessage>>('threads', 'Messages', thread);
        expect(messages.records.slice(-2).map((entry) => entry.author)).to.deep.equal([world.exporterUscc, 'TaxMSP']);
        expect((await world.forex.evaluate<{ messageCount: number }>('threads', 'Head', thread)).messageCount).to.equal(first.sequence + 1);
    });

    it('is resolved by an agency party with a resolution code, not by the enterprise, and then takes no more messages', async () => {
        const opened = await open(await send());
        await world.unchanged(() => expectRefusal(world.exporter.submit('cases', 'Resolve', { caseId: opened.caseId, resolutionCode: 'RETRANSMITTED' }), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.tax.submit('cases', 'Resolve', { caseId: opened.caseId, resolutionCode: 'RETRANSMITTED' }), 'FORBIDDEN', 'caller'));
        const resolved = await world.customs.submit<CaseRecord>('cases', 'Resolve', { caseId: opened.caseId, resolutionCode: 'RETRANSMITTED' });
        expect(resolved.status).to.equal('RESOLVED');
        expect(resolved.outcome).to.include({ code: 'RETRANSMITTED', by: 'CustomsMSP' });
        expect(await world.customs.submit<CaseRecord>('cases', 'Resolve', { caseId: opened.caseId, resolutionCode: 'RETRANSMITTED' })).to.deep.equal(resolved);
        await world.unchanged(() => expectRefusal(world.forex.submit('cases', 'AddMessage', { caseId: opened.caseId, sequence: 1, messageHash: sha256('late') }), 'FAILED_PRECONDITION', 'caseId'));
        await world.unchanged(() => expectRefusal(world.forex.submit('cases', 'Resolve', { caseId: opened.caseId, resolutionCode: 'OTHER_OUTCOME' }), 'FAILED_PRECONDITION', 'caseId'));
    });

    it('may be withdrawn only by the party that opened it', async () => {
        const opened = await open(await send());
        await world.unchanged(() => expectRefusal(world.customs.submit('cases', 'Withdraw', { caseId: opened.caseId }), 'FORBIDDEN', 'caller'));
        const withdrawn = await world.exporter.submit<CaseRecord>('cases', 'Withdraw', { caseId: opened.caseId });
        expect(withdrawn.status).to.equal('WITHDRAWN');
    });

    it('lets customs dispute a certificate of origin whose signature does not match the specimen', async () => {
        const request = permitRequest({ holder: world.exporterUscc, type: 'ORIGIN_CERT', useLimit: 1 });
        const certificate = await world.inspection.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
        const opened = await world.customs.submit<CaseRecord>('cases', 'Open', {
            caseId: unique('SIG'), subject: { kind: 'DOCUMENT', type: 'ORIGIN_CERT', number: certificate.number }, reason: 'SIGNATURE_MISMATCH', statementHash: sha256('签章与备案印模不符'),
        });
        expect(opened.parties).to.deep.equal(['CustomsMSP', 'InspectionMSP', world.exporterUscc].sort());
        const inspectionCases = await world.inspection.evaluate<Page<CaseRecord>>('cases', 'List', { party: 'InspectionMSP', status: 'OPEN', pageSize: 200 });
        expect(inspectionCases.records.map((entry) => entry.caseId)).to.include(opened.caseId);
        const onCertificate = await world.exporter.evaluate<Page<CaseRecord>>('cases', 'List', { subject: { kind: 'DOCUMENT', type: 'ORIGIN_CERT', number: certificate.number } });
        expect(onCertificate.records.map((entry) => entry.caseId)).to.deep.equal([opened.caseId]);
    });

    it('shows a case to its parties and auditors only, and lists each party only its own', async () => {
        const opened = await open(await send());
        expect((await world.auditor.evaluate<CaseRecord>('cases', 'Get', { caseId: opened.caseId })).caseId).to.equal(opened.caseId);
        await expectRefusal(world.tax.evaluate('cases', 'Get', { caseId: opened.caseId }), 'FORBIDDEN', 'caller');
        await expectRefusal(world.otherEnterprise.evaluate('cases', 'Get', { caseId: opened.caseId }), 'FORBIDDEN', 'caller');
        const mine = await world.exporter.evaluate<Page<CaseRecord>>('cases', 'List', { party: world.exporterUscc, pageSize: 200 });
        expect(mine.records.map((entry) => entry.caseId)).to.include(opened.caseId);
        await expectRefusal(world.exporter.evaluate('cases', 'List', { party: 'ForexMSP' }), 'FORBIDDEN', 'party');
        await expectRefusal(world.customs.evaluate('cases', 'Get', { caseId: 'NO-SUCH-CASE' }), 'NOT_FOUND', 'caseId');
    });
});
