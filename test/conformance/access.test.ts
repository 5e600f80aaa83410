import { expect } from 'chai';
import type { DocumentRecord, Handoff } from '@counterfoil/chaincode';
import { expectRefusal, sha256 } from './client';
import { contentOf, DAY, isoIn, permitRequest, unique } from './fixtures';
import { onEveryBackend } from './world';

onEveryBackend('access control and events', (world) => {

    it('lets an auditor read everything and write nothing', async () => {
        const request = permitRequest({ holder: world.exporterUscc });
        const licence = await world.commerce.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
        expect((await world.auditor.evaluate<DocumentRecord>('documents', 'Get', { type: 'LICENCE', number: licence.number })).number).to.equal(licence.number);
        const other = permitRequest({ holder: world.exporterUscc });
        const auditorOfCommerce = await world.actor('CommerceMSP', 'commerce-auditor', { role: 'auditor' });
        await world.unchanged(() => expectRefusal(auditorOfCommerce.submit('documents', 'Issue', other, contentOf(other)), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.auditor.submit('documents', 'Revoke', { type: 'LICENCE', number: licence.number, reason: 'x' }), 'FORBIDDEN', 'caller'));
    });

    it('refuses an enterprise certificate that carries no USCC, or an invalid one', async () => {
        const anonymous = await world.actor('EnterprisesMSP', 'anonymous', { role: 'enterprise' });
        await expectRefusal(anonymous.evaluate('documents', 'List', { holder: world.exporterUscc }), 'FORBIDDEN', 'caller');
        const wrongDigit = `${world.exporterUscc.slice(0, 17)}${world.exporterUscc.endsWith('0') ? '1' : '0'}`;
        const forgedCode = await world.actor('EnterprisesMSP', 'forged', { role: 'enterprise', uscc: wrongDigit });
        await expectRefusal(forgedCode.evaluate('documents', 'List', { holder: wrongDigit }), 'FORBIDDEN', 'caller');
    });

    it('refuses an agency member who claims the enterprise role, and an unknown role', async () => {
        const pretender = await world.actor('CustomsMSP', 'pretender', { role: 'enterprise', uscc: world.exporterUscc });
        await expectRefusal(pretender.evaluate('documents', 'List', { holder: world.exporterUscc }), 'FORBIDDEN', 'caller');
        const superuser = await world.actor('CustomsMSP', 'root', { role: 'superuser' });
        await expectRefusal(superuser.evaluate('documents', 'List', { holder: world.exporterUscc }), 'FORBIDDEN', 'caller');
    });

    it('refuses an enterprise acting for another enterprise', async () => {
        const request = permitRequest({ holder: world.exporterUscc });
        const licence = await world.commerce.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
        await world.unchanged(() => expectRefusal(world.otherEnterprise.submit('cases', 'Open', {
            caseId: unique('CASE'), subject: { kind: 'DOCUMENT', type: 'LICENCE', number: licence.number }, reason: 'DATA_ERROR',
        }), 'FORBIDDEN', 'caller'));
    });

    it('answers an unknown transaction with a clear refusal', async () => {
        await expectRefusal(world.customs.evaluate('documents', 'Delete', {}), 'INVALID_ARGUMENT');
    });

    it('emits one event per state change, carrying the record, readable from a checkpoint', async () => {
        const start = await world.backend.ledger.info();
        const declaration = { type: 'EXPORT_DECLARATION', number: '220120260000000777', holder: world.exporterUscc, validFrom: isoIn(-DAY), validTo: isoIn(DAY) };
        await world.customs.submit('documents', 'Issue', declaration, contentOf(declaration));
        const handoff = await world.customs.submit<Handoff>('handoffs', 'Send', {
            messageId: unique('EVT'), recipient: 'TaxMSP', subject: world.exporterUscc,
            document: { type: 'EXPORT_DECLARATION', number: declaration.number }, payloadHash: sha256('p'), size: 1,
        });
        await world.tax.submit('handoffs', 'RecordReceipt', { sender: 'CustomsMSP', messageId: handoff.messageId, payloadHash: sha256('p') });
        await world.tax.submit('handoffs', 'Acknowledge', { sender: 'CustomsMSP', messageId: handoff.messageId, decision: 'ACCEPTED' });
        const events = world.backend.ledger.events({ start: { blockNumber: start.height } });
        const seen: { name: string; payload: Record<string, unknown> }[] = [];
        for await (const event of events) {
            seen.push({ name: event.name, payload: JSON.parse(Buffer.from(event.payload).toString('utf8')) as Record<string, unknown> });
            if (seen.length === 4) {
                break;
            }
        }
        events.close();
        expect(seen.map((event) => event.name)).to.deep.equal(['DocumentIssued', 'HandoffSent', 'HandoffReceived', 'HandoffAccepted']);
        expect(seen[3]?.payload).to.include({ messageId: handoff.messageId, status: 'ACCEPTED' });
    });

    it('resumes events after the last transaction a reader processed', async () => {
        const start = await world.backend.ledger.info();
        const first = permitRequest({ holder: world.exporterUscc });
        const second = permitRequest({ holder: world.exporterUscc });
        const committed = await world.commerce.submitRaw('documents', 'Issue', first, contentOf(first));
        await world.commerce.submit('documents', 'Issue', second, contentOf(second));
        const events = world.backend.ledger.events({ start: { blockNumber: committed.blockNumber, transactionId: committed.transactionId } });
        const iterator = events[Symbol.asyncIterator]();
        const next = await iterator.next();
        events.close();
        expect(next.done).to.equal(false);
        const payload = JSON.parse(Buffer.from(next.value.payload).toString('utf8')) as DocumentRecord;
        expect(payload.number).to.equal(second.number);
        expect(committed.blockNumber >= start.height).to.equal(true);
    });

    it('lists committed transactions block by block from any block number, chained by hash', async () => {
        const start = await world.backend.ledger.info();
        const request = permitRequest({ holder: world.exporterUscc });
        const committed = await world.commerce.submitRaw('documents', 'Issue', request, contentOf(request));
        const blocks = world.backend.ledger.blocks(start.height - 1n);
        const seen: { number: bigint; previousHash: string }[] = [];
        let found: { creatorMspId: string; validationCode: string; event?: { name: string } } | undefined;
        for await (const block of blocks) {
            seen.push({ number: block.number, previousHash: block.previousHash });
            found = block.transactions.find((transaction) => transaction.transactionId === committed.transactionId);
            if (found) {
                break;
            }
        }
        blocks.close();
        expect(seen[0]?.number).to.equal(start.height - 1n);
        expect(found).to.deep.include({ creatorMspId: 'CommerceMSP', validationCode: 'VALID' });
        expect(found?.event?.name).to.equal('DocumentIssued');
        expect(seen.at(-1)?.number).to.equal(committed.blockNumber);
    });
});
