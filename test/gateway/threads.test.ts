import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { CaseMessage, ThreadMessage } from '@counterfoil/chaincode';
import type { ThreadView } from '../../gateway/threads/threads';
import { DAY, declarationNumber, isoIn } from '../conformance/fixtures';
import { type Answer, exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, OTHER_USCC, type Persona } from './personas';

const sha256 = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex');
/** The smallest files of each kind a scanner or camera makes, as their first bytes say. */
const PDF = Buffer.from('%PDF-1.7\n% a scanned certificate\n%%EOF\n');
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR a stamp')]);

describe('message threads with attachments, on cases and declarations', function () {
    this.timeout(120_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const declaration = declarationNumber();
    const caseId = `THREAD-CASE-${Date.now()}`;

    async function as<T = unknown>(persona: Persona, method: string, path: string, options: { body?: unknown; rawBody?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
        return harness.request<T>(method, path, { token: tokens.get(persona), ...options });
    }

    async function upload(persona: Persona, bytes: Buffer): Promise<Answer<{ sha256: string; size: number; mediaType: string }>> {
        return as(persona, 'POST', '/v1/attachments', { rawBody: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
    }

    before(async () => {
        harness = await GatewayHarness.start();
        tokens = await harness.personaTokens();
        const issued = await as('customs', 'POST', '/v1/documents', {
            body: { type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: Buffer.from(declaration).toString('base64') },
        });
        expect(issued.status, issued.text).to.equal(201);
        const sent = await as('customs', 'POST', '/v1/handoffs', {
            body: { messageId: `${caseId}-H`, recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256('x'), size: 1 },
        });
        expect(sent.status, sent.text).to.equal(201);
        const opened = await as('exporter', 'POST', '/v1/cases', { body: { caseId, subject: { kind: 'HANDOFF', sender: 'CustomsMSP', messageId: `${caseId}-H` }, reason: 'SIGNATURE_MISMATCH' } });
        expect(opened.status, opened.text).to.equal(201);
    });

    after(async () => harness?.stop());

    it('keeps a case\'s messages and files with the parties and their digests on the ledger, the thread shown complete and unaltered', async () => {
        const pdf = await upload('exporter', PDF);
        expect(pdf.status, pdf.text).to.equal(201);
        expect(pdf.body).to.deep.equal({ sha256: sha256(PDF), size: PDF.length, mediaType: 'application/pdf' });
        const png = await upload('exporter', PNG);
        expect(png.body.mediaType).to.equal('image/png');
        const posted = await as<{ sequence: number; verified: boolean }>('exporter', 'POST', `/v1/cases/${caseId}/thread`, {
            body: { text: '随函附上原产地证书扫描件，签章与备案样本一致。', attachments: [{ sha256: pdf.body.sha256, name: '原产地证书.pdf' }, { sha256: png.body.sha256, name: 'stamp.png' }] },
        });
        expect(posted.status, posted.text).to.equal(201);
        expect(posted.body).to.include({ sequence: 1, verified: true });
        const reply = await as<{ sequence: number }>('customs', 'POST', `/v1/cases/${caseId}/thread`, { body: { text: 'Received; comparing with the specimen on file.' } });
        expect(reply.body.sequence).to.equal(2);

        // The ledger holds each message's digest and its files' digests, never the text.
        const onLedger = await as<CaseMessage[]>('tax', 'GET', `/v1/cases/${caseId}/messages`);
        expect(onLedger.body.map((message) => message.attachments ?? [])).to.deep.equal([
            [{ sha256: sha256(PDF), size: PDF.length, mediaType: 'application/pdf' }, { sha256: sha256(PNG), size: PNG.length, mediaType: 'image/png' }], [],
        ]);
        expect(JSON.stringify(onLedger.body)).to.not.include('原产地');

        const thread = await as<ThreadView>('tax', 'GET', `/v1/cases/${caseId}/thread`);
        expect(thread.status, thread.text).to.equal(200);
        expect(thread.body).to.include({ messageCount: 2, complete: true, readThrough: 0 });
        expect(thread.body.messages.map((message) => [message.author, message.text, message.verified, message.unread])).to.deep.equal([
            [EXPORTER_USCC, '随函附上原产地证书扫描件，签章与备案样本一致。', true, true], ['CustomsMSP', 'Received; comparing with the specimen on file.', true, true],
        ]);
        expect((await as('other', 'GET', `/v1/cases/${caseId}/thread`)).status, 'not a party').to.equal(403);
        expect((await as('auditor', 'GET', `/v1/cases/${caseId}/thread`)).status).to.equal(200);
        expect((await as('auditor', 'POST', `/v1/cases/${caseId}/thread`, { body: { text: 'x' } })).status, 'auditors read only').to.equal(403);

        // Text changed where the hub keeps it no longer matches the ledger's digest, and the thread says so.
        await harness.database.pool.query("UPDATE message_bodies SET body = replace(body, 'Received', 'Rejected') WHERE body LIKE '%Received%'");
        const altered = await as<ThreadView>('tax', 'GET', `/v1/cases/${caseId}/thread`);
        expect(altered.body.complete).to.equal(false);
        expect(altered.body.messages.map((message) => message.verified)).to.deep.equal([true, false]);
        await harness.database.pool.query("UPDATE message_bodies SET body = replace(body, 'Rejected', 'Received') WHERE body LIKE '%Rejected%'");
    });

    it('serves an attachment as a download of the kind its bytes say, never as a page, to the thread\'s readers only', async () => {
        const thread = (await as<ThreadView>('customs', 'GET', `/v1/cases/${caseId}/thread`)).body;
        const path = `/v1/cases/${caseId}/thread/1/attachments/${sha256(PDF)}`;
        const response = await fetch(`${harness.url}${path}`, { headers: { Authorization: `Bearer ${tokens.get('tax') as string}` } });
        harness.checkAgainstContract('GET', path, response.status, response.headers.get('content-type') ?? '', undefined);
        expect(response.status).to.equal(200);
        expect(Buffer.from(await response.arrayBuffer()).equals(PDF)).to.equal(true);
        expect(response.headers.get('content-type')).to.equal('application/pdf');
        expect(response.headers.get('content-disposition')).to.equal(`attachment; filename="_____.pdf"; filename*=UTF-8''${encodeURIComponent('原产地证书.pdf')}`);
        expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
        expect(response.headers.get('content-security-policy')).to.include('sandbox');
        expect(thread.messages[0]?.attachments.map((attachment) => attachment.name)).to.deep.equal(['原产地证书.pdf', 'stamp.png']);
        expect((await as('other', 'GET', path)).status).to.equal(403);
        expect((await as('tax', 'GET', `/v1/cases/${caseId}/thread/2/attachments/${sha256(PDF)}`)).status, 'not an attachment of that message').to.equal(404);
    });

    it('refuses files that are not documents or images, or too large, and files the writer did not upload', async () => {
        const html = await upload('exporter', Buffer.from('<html><script>alert(document.cookie)</script></html>'));
        expect(html.status).to.equal(400);
        expect(html.text).to.include('read from its bytes');
        const svg = await upload('exporter', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'));
        expect(svg.status).to.equal(400);
        const large = await as('exporter', 'POST', '/v1/attachments', { rawBody: Buffer.alloc(25 * 1024 * 1024 + 1, 0x25), headers: { 'Content-Type': 'application/octet-stream' } });
        expect(large.status).to.equal(413);
        expect((await as('exporter', 'POST', '/v1/attachments', { rawBody: PDF, headers: { 'Content-Type': 'text/html' } })).status).to.equal(400);
        // The customs officer knows the exporter's file's digest, but did not upload it.
        const borrowed = await as('customs', 'POST', `/v1/cases/${caseId}/thread`, { body: { text: 'see this', attachments: [{ sha256: sha256(PDF), name: 'x.pdf' }] } });
        expect(borrowed.status).to.equal(400);
        expect(borrowed.body).to.deep.include({ field: 'attachments[0].sha256' });
        const bad = await as('exporter', 'POST', `/v1/cases/${caseId}/thread`, { body: { text: 'a\u0000b' } });
        expect(bad.status).to.equal(400);
    });

    it('keeps what each reader has read, its own messages read', async () => {
        const unread = async (persona: Persona): Promise<{ thread: string; messageCount: number; readThrough: number }[]> =>
            (await as<{ thread: string; messageCount: number; readThrough: number }[]>(persona, 'GET', '/v1/threads/unread')).body;
        expect((await unread('exporter')).find((entry) => entry.thread === `case/${caseId}`), 'the exporter wrote message 1, not 2').to.deep.equal({ thread: `case/${caseId}`, messageCount: 2, readThrough: 1 });
        expect((await unread('customs')).map((entry) => entry.thread), 'customs wrote the last message').to.not.include(`case/${caseId}`);
        const thread = await as<ThreadView>('exporter', 'GET', `/v1/cases/${caseId}/thread`);
        expect(thread.body.messages.map((message) => message.unread)).to.deep.equal([false, true]);
        expect((await as('exporter', 'POST', `/v1/cases/${caseId}/thread/read`, { body: { through: 2 } })).status).to.equal(200);
        expect((await unread('exporter')).map((entry) => entry.thread)).to.not.include(`case/${caseId}`);
    });

    it('gives a declaration a thread between the exporter and the agencies it is for', async () => {
        const path = `/v1/documents/EXPORT_DECLARATION/${declaration}/thread`;
        const scan = await upload('exporter', PNG);
        const [first, second] = await Promise.all([
            as<{ sequence: number }>('exporter', 'POST', path, { body: { text: '请确认退税资料是否收到。', attachments: [{ sha256: scan.body.sha256, name: 'invoice.png' }] } }),
            as<{ sequence: number }>('tax', 'POST', path, { body: { text: 'Refund file opened.' } }),
        ]);
        expect([first.status, second.status], `${first.text} ${second.text}`).to.deep.equal([201, 201]);
        expect([first.body.sequence, second.body.sequence].sort()).to.deep.equal([1, 2]);
        const forex = await as<ThreadView>('forex', 'GET', path);
        expect(forex.status, forex.text).to.equal(200);
        expect(forex.body).to.include({ messageCount: 2, complete: true });
        expect(forex.body.parties).to.deep.equal(['CustomsMSP', 'ForexMSP', 'TaxMSP', EXPORTER_USCC].sort());
        expect((await as('commerce', 'GET', path)).status, 'commerce is not a party to a declaration').to.equal(403);
        const mine = forex.body.messages.find((message) => message.author === EXPORTER_USCC);
        const file = await as<string>('forex', 'GET', `${path}/${mine?.sequence ?? 0}/attachments/${scan.body.sha256}`);
        expect(file.status).to.equal(200);
        expect(file.headers.get('content-type')).to.equal('image/png');
        expect((await as('other', 'POST', path, { body: { text: 'not a party, and not kept' } })).status).to.equal(403);
        expect((await as('auditor', 'POST', path, { body: { text: 'an auditor, and not kept' } })).status).to.equal(403);
        const kept = await harness.database.pool.query("SELECT 1 FROM message_bodies WHERE body LIKE '%not kept%'");
        expect(kept.rowCount, 'what no one may write is not stored').to.equal(0);
        const onLedger = await harness.ledger.evaluate({
            identity: await harness.gateway.services.identities.identityFor({ subject: 'auditor', org: 'CustomsMSP', role: 'auditor' }),
            contract: 'threads', transaction: 'Messages', arguments: [JSON.stringify({ type: 'EXPORT_DECLARATION', number: declaration })],
        });
        const records = (JSON.parse(Buffer.from(onLedger).toString('utf8')) as { records: ThreadMessage[] }).records;
        expect(records.map((record) => record.messageHash)).to.deep.equal(forex.body.messages.map((message) => message.messageHash));
        const unread = await as<{ thread: string }[]>('forex', 'GET', '/v1/threads/unread');
        expect(unread.body.map((entry) => entry.thread)).to.include(`document/EXPORT_DECLARATION/${declaration}`);
        expect((await as<{ through: number }>('forex', 'POST', `${path}/read`, { body: { through: 2 } })).body).to.deep.equal({ through: 2 });
        expect((await as<{ through: number }>('forex', 'POST', `${path}/read`, { body: { through: 1 } })).body, 'never back').to.deep.equal({ through: 2 });
        expect((await as('forex', 'POST', `${path}/read`, { body: { through: 3 } })).status).to.equal(400);
        const after = await as<{ thread: string }[]>('forex', 'GET', '/v1/threads/unread');
        expect(after.body.map((entry) => entry.thread)).to.not.include(`document/EXPORT_DECLARATION/${declaration}`);
        expect(OTHER_USCC).to.not.equal(EXPORTER_USCC);
    });

    it('has exercised the thread routes, each answer checked against the OpenAPI document', () => {
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 3).join(' ')));
        const expected = [
            'POST /v1/attachments 201', 'POST /v1/attachments 400', 'POST /v1/attachments 413', 'GET /v1/threads/unread 200',
            'GET /v1/cases/{id}/thread 200', 'GET /v1/cases/{id}/thread 403', 'POST /v1/cases/{id}/thread 201', 'POST /v1/cases/{id}/thread 400',
            'GET /v1/cases/{id}/thread/{sequence}/attachments/{sha256} 200', 'GET /v1/cases/{id}/thread/{sequence}/attachments/{sha256} 404',
            'GET /v1/documents/{type}/{number}/thread 200', 'GET /v1/documents/{type}/{number}/thread 403', 'POST /v1/documents/{type}/{number}/thread 201',
            'GET /v1/documents/{type}/{number}/thread/{sequence}/attachments/{sha256} 200', 'POST /v1/cases/{id}/thread/read 200', 'POST /v1/documents/{type}/{number}/thread/read 200',
        ];
        expect(expected.filter((entry) => !seen.has(entry))).to.deep.equal([]);
    });
});
