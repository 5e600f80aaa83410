import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { CaseRecord, DocumentRecord, Handoff, VerificationRecord } from '@counterfoil/chaincode';
import { Indexer } from '../../gateway/indexer/indexer';
import { DAY, isoIn, permitRequest, STEEL } from '../conformance/fixtures';
import { type Answer, exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, type Persona, PERSONAS } from './personas';

const sha256 = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex');
const base64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64');

describe('the gateway over HTTP: the exporter\'s story', function () {
    this.timeout(120_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const declaration = '220120261100000001';
    const exportData = '<报关单 编号="220120261100000001"><货物>热轧钢板 400 吨</货物></报关单>';
    let licence: DocumentRecord;
    let toTax: Handoff;
    let toForex: Handoff;
    let forexCase: CaseRecord;

    async function as<T = unknown>(persona: Persona, method: string, path: string, body?: unknown): Promise<Answer<T>> {
        return harness.request<T>(method, path, { token: tokens.get(persona), body });
    }

    before(async () => {
        harness = await GatewayHarness.start();
        tokens = await harness.personaTokens();
    });

    after(async () => {
        await harness?.stop();
    });

    it('lets commerce issue an export licence, with its content kept out of the public record', async () => {
        const request = permitRequest({ holder: EXPORTER_USCC, goods: [{ hsCode: STEEL, quantity: 1000, unit: 'TNE' }] });
        const answer = await as<DocumentRecord>('commerce', 'POST', '/v1/documents', { ...request, content: base64('出口许可证正本 #1') });
        expect(answer.status, answer.text).to.equal(201);
        licence = answer.body;
        expect(licence.contentHash).to.equal(sha256('出口许可证正本 #1'));
        const content = await as<{ content: string }>('customs', 'GET', `/v1/documents/LICENCE/${licence.number}/content`);
        expect(Buffer.from(content.body.content, 'base64').toString('utf8')).to.equal('出口许可证正本 #1');
        expect((await as('tax', 'GET', `/v1/documents/LICENCE/${licence.number}/content`)).status).to.equal(403);
    });

    it('lets customs verify the licence quoted on the declaration, drawing it down', async () => {
        const declarationDocument = {
            type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(365 * DAY),
            summary: { port: '2201', exporter: '上海远洋贸易有限公司' }, content: base64(exportData),
        };
        expect((await as('customs', 'POST', '/v1/documents', declarationDocument)).status).to.equal(201);
        const verification = await as<VerificationRecord>('customs', 'POST', '/v1/verifications', {
            declarationNumber: declaration, permit: { type: 'LICENCE', number: licence.number }, holder: EXPORTER_USCC, direction: 'EXPORT',
            goods: [{ hsCode: STEEL, quantity: 400, unit: 'TNE' }], declaredAt: isoIn(-60_000), port: '2201',
        });
        expect(verification.status, verification.text).to.equal(200);
        expect(verification.body.verdict).to.equal('VALID');
        expect(verification.body.balance[0]).to.include({ remaining: 600 });
        expect(verification.body.usesRemaining).to.equal(11);
        const read = await as<VerificationRecord>('exporter', 'GET', `/v1/verifications/${declaration}/${licence.number}`);
        expect(read.body.transactionId).to.equal(verification.body.transactionId);
    });

    it('records the export data sent to tax and to forex, with forex given one second to confirm', async () => {
        const policy = await as('customsAdmin', 'POST', '/v1/deadline-policies', { documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'ForexMSP', receiptSeconds: 1, acknowledgementSeconds: 2 });
        expect(policy.status, policy.text).to.equal(200);
        const send = (recipient: string): Promise<Answer<Handoff>> => as<Handoff>('customs', 'POST', '/v1/handoffs', {
            messageId: `EXP-${declaration}-${recipient}`, recipient, subject: EXPORTER_USCC,
            document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(exportData), size: Buffer.byteLength(exportData),
        });
        toTax = (await send('TaxMSP')).body;
        const forex = await send('ForexMSP');
        expect(forex.status, forex.text).to.equal(201);
        toForex = forex.body;
        expect(toTax.status).to.equal('SENT');
        expect(toForex.deadlines.receiptSeconds).to.equal(1);
    });

    it('lets tax confirm receipt and accept, while forex never answers', async () => {
        const path = `/v1/handoffs/CustomsMSP/${toTax.messageId}`;
        const receipt = await as<Handoff>('tax', 'POST', `${path}/receipt`, { payloadHash: sha256(exportData) });
        expect(receipt.body.status).to.equal('RECEIVED');
        expect((await as('forex', 'POST', `${path}/acknowledgement`, { decision: 'ACCEPTED' })).status).to.equal(403);
        const accepted = await as<Handoff>('tax', 'POST', `${path}/acknowledgement`, { decision: 'ACCEPTED' });
        expect(accepted.body.status).to.equal('ACCEPTED');
        await new Promise((resolve) => setTimeout(resolve, 2200));
    });

    it('shows the exporter where its data went: accepted by tax, overdue at forex', async () => {
        const trace = await as<{ agencies: { agency: string; timeline: { step: string; overdue?: boolean; transactionId: string }[] }[]; verifications: unknown[]; documents: unknown[] }>(
            'exporter', 'GET', `/v1/trace?declaration=${declaration}`);
        expect(trace.status, trace.text).to.equal(200);
        const tax = trace.body.agencies.find((entry) => entry.agency === 'TaxMSP');
        const forex = trace.body.agencies.find((entry) => entry.agency === 'ForexMSP');
        expect(tax?.timeline.map((step) => step.step)).to.deep.equal(['SENT', 'RECEIVED', 'ACCEPTED']);
        expect(forex?.timeline.map((step) => step.step)).to.deep.equal(['SENT']);
        expect(forex?.timeline[0]?.overdue).to.equal(true);
        expect(trace.body.verifications).to.have.length(1);
        expect(trace.body.documents).to.have.length(1);
        const overdue = await as<{ items: Handoff[] }>('exporter', 'GET', '/v1/handoffs?overdue=true');
        expect(overdue.body.items.map((handoff) => handoff.recipient)).to.deep.equal(['ForexMSP']);
        const whole = await as<{ handoffs: Handoff[] }>('exporter', 'GET', `/v1/enterprises/${EXPORTER_USCC}/trace`);
        expect(whole.body.handoffs).to.have.length(2);
        expect((await as('other', 'GET', `/v1/enterprises/${EXPORTER_USCC}/trace`)).status).to.equal(403);
        // The enterprise's declarations a page at a time, each with where its data stands at each agency.
        const second = '220120261100000002';
        expect((await as('customs', 'POST', '/v1/documents', {
            type: 'EXPORT_DECLARATION', number: second, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(365 * DAY), content: Buffer.from(second).toString('base64'),
        })).status).to.equal(201);
        const first = await as<{ items: { number: string; handoffs: { agency: string; status: string; overdue: boolean }[] }[]; nextCursor: string | null }>('exporter', 'GET', `/v1/enterprises/${EXPORTER_USCC}/declarations?limit=1`);
        expect(first.body.items.map((item) => [item.number, item.handoffs.length])).to.deep.equal([[second, 0]]);
        const next = await as<typeof first.body>('exporter', 'GET', `/v1/enterprises/${EXPORTER_USCC}/declarations?limit=1&cursor=${first.body.nextCursor as string}`);
        expect(next.body.items.map((item) => item.number)).to.deep.equal([declaration]);
        expect(next.body.items[0]?.handoffs.map((handoff) => [handoff.agency, handoff.status, handoff.overdue])).to.deep.equal([['ForexMSP', 'SENT', true], ['TaxMSP', 'ACCEPTED', false]]);
        expect(next.body.nextCursor).to.equal(null);
        expect((await as('other', 'GET', `/v1/enterprises/${EXPORTER_USCC}/declarations`)).status).to.equal(403);
        expect((await as('tax', 'GET', `/v1/enterprises/${EXPORTER_USCC}/declarations`)).status).to.equal(403);
        expect((await as('other', 'GET', `/v1/trace?declaration=${declaration}`)).body).to.deep.include({ handoffs: [], verifications: [] });
    });

    it('shows agencies the overview of their pairs: counts by status, confirmation rate, overdue, lag', async () => {
        const overview = await as<{ pairs: { sender: string; recipient: string; byStatus: Record<string, number>; confirmationRate: number; overdue: number; receiptSecondsMedian: number | null }[]; totals: { handoffs: number; overdue: number } }>('auditor', 'GET', '/v1/overview');
        expect(overview.status).to.equal(200);
        const pair = (recipient: string): (typeof overview.body.pairs)[number] | undefined => overview.body.pairs.find((entry) => entry.sender === 'CustomsMSP' && entry.recipient === recipient);
        expect(pair('TaxMSP')).to.deep.include({ byStatus: { ACCEPTED: 1 }, confirmationRate: 1, overdue: 0 });
        expect(pair('TaxMSP')?.receiptSecondsMedian).to.be.a('number');
        expect(pair('ForexMSP')).to.deep.include({ byStatus: { SENT: 1 }, confirmationRate: 0, overdue: 1, receiptSecondsMedian: null });
        const tax = await as<{ pairs: { recipient: string }[] }>('tax', 'GET', '/v1/overview');
        expect(tax.body.pairs.map((entry) => entry.recipient), 'an agency sees its own pairs').to.deep.equal(['TaxMSP']);
        expect((await as('exporter', 'GET', '/v1/overview')).status).to.equal(403);
    });

    it('tells agencies who orders the ledger\'s blocks and how far it has come', async () => {
        const before = Number((await harness.ledger.info()).height);
        const status = await as<{ engine: string; height: number }>('tax', 'GET', '/v1/ledger');
        const after = Number((await harness.ledger.info()).height);
        expect(status.status).to.equal(200);
        expect(status.body.engine).to.equal('embedded');
        expect(status.body.height, 'blocks committed so far, block 0 included').to.be.within(before, after).and.greaterThan(1);
        expect((await as('exporter', 'GET', '/v1/ledger')).status).to.equal(403);
    });

    it('lets the exporter open a case against the silence, which the parties settle', async () => {
        const opened = await as<CaseRecord>('exporter', 'POST', '/v1/cases', {
            caseId: `NR-${toForex.messageId}`, subject: { kind: 'HANDOFF', sender: 'CustomsMSP', messageId: toForex.messageId },
            reason: 'NOT_RECEIVED', statementHash: sha256('外汇局称未收到出口报关数据'),
        });
        expect(opened.status, opened.text).to.equal(201);
        forexCase = opened.body;
        expect(forexCase.parties).to.include.members(['CustomsMSP', 'ForexMSP', EXPORTER_USCC]);
        expect((await as('forex', 'POST', `/v1/cases/${forexCase.caseId}/messages`, { sequence: 1, messageHash: sha256('系统故障，数据未入库') })).status).to.equal(200);
        const thread = await as<unknown[]>('exporter', 'GET', `/v1/cases/${forexCase.caseId}/messages`);
        expect(thread.body).to.have.length(1);
        const retransmitted = await as<Handoff>('customs', 'POST', `/v1/handoffs/CustomsMSP/${toForex.messageId}/retransmissions`, { attempt: 1 });
        expect(retransmitted.body.retransmissions).to.equal(1);
        const received = await as<Handoff>('forex', 'POST', `/v1/handoffs/CustomsMSP/${toForex.messageId}/receipt`, { payloadHash: sha256(exportData) });
        expect(received.body.status).to.equal('RECEIVED');
        const resolved = await as<CaseRecord>('customs', 'POST', `/v1/cases/${forexCase.caseId}/resolution`, { resolutionCode: 'RETRANSMITTED' });
        expect(resolved.body.status).to.equal('RESOLVED');
        expect((await as<CaseRecord>('exporter', 'GET', `/v1/cases/${forexCase.caseId}`)).body.status).to.equal('RESOLVED');
        const mine = await as<{ items: CaseRecord[] }>('exporter', 'GET', '/v1/cases?status=RESOLVED');
        expect(mine.body.items.map((entry) => entry.caseId)).to.include(forexCase.caseId);
    });

    it('lists what each party may see, page by page', async () => {
        const inbox = await as<{ items: Handoff[] }>('tax', 'GET', '/v1/handoffs?recipient=TaxMSP');
        expect(inbox.body.items.map((handoff) => handoff.messageId)).to.deep.equal([toTax.messageId]);
        const forexView = await as<{ items: Handoff[] }>('forex', 'GET', '/v1/handoffs');
        expect(forexView.body.items.every((handoff) => handoff.recipient === 'ForexMSP' || handoff.sender === 'ForexMSP')).to.equal(true);
        const first = await as<{ items: Handoff[]; nextCursor: string | null }>('auditor', 'GET', '/v1/handoffs?limit=1');
        expect(first.body.items).to.have.length(1);
        const second = await as<{ items: Handoff[]; nextCursor: string | null }>('auditor', 'GET', `/v1/handoffs?limit=1&cursor=${first.body.nextCursor ?? ''}`);
        expect(second.body.items[0]?.messageId).to.not.equal(first.body.items[0]?.messageId);
        const documents = await as<{ items: DocumentRecord[] }>('exporter', 'GET', '/v1/documents');
        expect(documents.body.items.map((document) => document.type).sort()).to.deep.equal(['EXPORT_DECLARATION', 'EXPORT_DECLARATION', 'LICENCE']);
        expect((await as('exporter', 'GET', `/v1/documents?holder=${PERSONAS.other.uscc}`)).status).to.equal(403);
    });

    it('amends, revokes and releases through the API', async () => {
        const amended = await as<DocumentRecord>('commerce', 'POST', `/v1/documents/LICENCE/${licence.number}/amendments`, {
            expectedVersion: 1, validFrom: licence.validFrom, validTo: licence.validTo, summary: licence.summary,
            permit: { direction: 'EXPORT', goods: [{ hsCode: STEEL, quantity: 1200, unit: 'TNE' }], useLimit: 12, bulk: false }, content: base64('修订后的许可证'),
        });
        expect(amended.status, amended.text).to.equal(201);
        expect(amended.body.version).to.equal(2);
        expect((await as<DocumentRecord>('customs', 'GET', `/v1/documents/LICENCE/${licence.number}?version=1`)).body.status).to.equal('AMENDED');
        const released = await as<VerificationRecord>('customs', 'POST', `/v1/verifications/${declaration}/${licence.number}/release`, { reason: '报关单撤销' });
        expect(released.body.release?.reason).to.equal('报关单撤销');
        const revoked = await as<DocumentRecord>('commerce', 'POST', `/v1/documents/LICENCE/${licence.number}/revocation`, { reason: '企业申请注销' });
        expect(revoked.body.status).to.equal('REVOKED');
        const cancelled = await as<Handoff>('customs', 'POST', '/v1/handoffs', {
            messageId: 'EXP-CANCEL-1', recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256('x'), size: 1,
        });
        expect((await as<Handoff>('customs', 'POST', `/v1/handoffs/CustomsMSP/${cancelled.body.messageId}/cancellation`, { reason: '重复发送' })).body.status).to.equal('CANCELLED');
        expect((await as<Handoff>('auditor', 'GET', `/v1/handoffs/CustomsMSP/${cancelled.body.messageId}`)).body.status).to.equal('CANCELLED');
        const withdrawn = await as<CaseRecord>('exporter', 'POST', '/v1/cases', { caseId: 'WD-1', subject: { kind: 'DOCUMENT', type: 'EXPORT_DECLARATION', number: declaration }, reason: 'DATA_ERROR' });
        expect((await as<CaseRecord>('exporter', 'POST', `/v1/cases/${withdrawn.body.caseId}/withdrawal`, {})).body.status).to.equal('WITHDRAWN');
    });

    it('reports health, readiness with the indexer\'s lag, metrics, and describes itself', async () => {
        expect((await harness.request('GET', '/healthz')).body).to.deep.equal({ status: 'ok' });
        const ready = await harness.request<{ status: string; checks: { indexer: { lagBlocks: number } } }>('GET', '/readyz');
        expect(ready.body.status).to.equal('ok');
        expect(ready.body.checks.indexer.lagBlocks).to.equal(0);
        const metrics = await harness.request<string>('GET', '/metrics');
        expect(metrics.body).to.match(/counterfoil_indexer_lag_blocks 0/);
        expect(metrics.body).to.match(/counterfoil_http_requests_total\{method="POST",route="\/v1\/handoffs",status="201"\}/);
        const openapi = await harness.request<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json');
        expect(openapi.body.openapi).to.equal('3.1.0');
        expect((await harness.request<string>('GET', '/docs')).body).to.contain('/openapi.json');
    });

    it('builds the same query tables again from the ledger alone, many blocks at a time', async () => {
        const pool = harness.database.pool;
        const tables = {
            documents: 'type, number', verifications: 'declaration_number, permit_number', handoffs: 'sender, message_id', handoff_steps: 'transaction_id',
            cases: 'case_id', case_messages: 'case_id, sequence',
        };
        const snapshot = async (): Promise<Record<string, unknown[]>> => {
            const dump: Record<string, unknown[]> = {};
            for (const [table, order] of Object.entries(tables)) {
                dump[table] = (await pool.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
            }
            // Sequences are numbered anew; the order and the contents must not change.
            dump.ledger_events = (await pool.query('SELECT block_number, transaction_id, tx_index, name, occurred_at, payload, audience FROM ledger_events ORDER BY sequence')).rows;
            return dump;
        };
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        const before = await snapshot();
        expect(before.case_messages).to.not.have.length(0);
        expect(new Set((before.ledger_events as { block_number: string }[]).map((event) => event.block_number)).size).to.be.greaterThan(10);
        await harness.gateway.services.indexer.stop();
        await pool.query(`TRUNCATE ${Object.keys(tables).join(', ')}, ledger_events, webhook_deliveries`);
        await pool.query("UPDATE indexer_checkpoint SET block_number = -1 WHERE name = 'ledger'");
        const rebuilding = new Indexer(harness.ledger, pool);
        await rebuilding.start();
        try {
            await rebuilding.caughtUp((await harness.ledger.info()).height - 1n);
        } finally {
            await rebuilding.stop();
        }
        expect(await snapshot()).to.deep.equal(before);
    });

    it('keeps each principal\'s favourites (收藏夹), console routes only', async () => {
        expect((await as<{ items: unknown[] }>('tax', 'GET', '/v1/favourites')).body).to.deep.equal({ items: [] });
        const items = [{ label: '未确认传递 · 接收方: 税务', target: '#/unconfirmed?recipient=TaxMSP&overdue=true' }, { label: 'Cases', target: '#/cases' }];
        expect((await as('tax', 'PUT', '/v1/favourites', { items })).status).to.equal(200);
        expect((await as<{ items: unknown[] }>('tax', 'GET', '/v1/favourites')).body).to.deep.equal({ items });
        expect((await as<{ items: unknown[] }>('forex', 'GET', '/v1/favourites')).body, 'each principal its own').to.deep.equal({ items: [] });
        const foreign = await as('tax', 'PUT', '/v1/favourites', { items: [{ label: 'x', target: 'javascript:alert(1)' }] });
        expect(foreign.status).to.equal(400);
        expect(foreign.body).to.deep.include({ field: 'items[0].target' });
        expect((await as('tax', 'PUT', '/v1/favourites', { items: Array.from({ length: 31 }, () => items[1]) })).status).to.equal(400);
    });

    it('has exercised every documented route, each answer checked against the OpenAPI document', () => {
        // Push, proof, reconciliation, adapter, audit, export, import, thread, notification and foreign certificate routes are exercised, and this checked, by their own suites.
        const documented = harness.gateway.api.all.filter((route) => !['Push', 'Proofs', 'Reconciliation', 'Adapters', 'Audit', 'Exports', 'Imports', 'Threads', 'Notifications', 'Foreign certificates'].includes(route.tag)).map((route) => `${route.method.toUpperCase()} ${route.path}`);
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
        expect(documented.filter((route) => !seen.has(route))).to.deep.equal([]);
    });
});
