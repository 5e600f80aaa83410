import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { CaseRecord, Handoff } from '@counterfoil/chaincode';
import type { Discrepancy, RunReport } from '../../adapters/reconciliation';
import { caseIdFor } from '../../adapters/reconciliation';
import { DAY, isoIn } from '../conformance/fixtures';
import { exercised, GatewayHarness } from '../gateway/harness';
import { EXPORTER_USCC, type Persona } from '../gateway/personas';
import { until } from '../support/until';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const pause = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe('reconciliation of unconfirmed transfers', function () {
    this.timeout(60_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const declaration = '220120261600000001';

    async function as<T>(persona: Persona, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
        return harness.request<T>(method, path, { token: tokens.get(persona), body });
    }

    async function send(messageId: string, recipient: string): Promise<Handoff> {
        const answer = await as<Handoff>('customs', 'POST', '/v1/handoffs', {
            messageId, recipient, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(messageId), size: 1,
        });
        expect(answer.status, answer.text).to.equal(201);
        return answer.body;
    }

    async function reconcile(): Promise<RunReport> {
        const answer = await as<RunReport>('customsAdmin', 'POST', '/v1/reconciliation/runs');
        expect(answer.status, answer.text).to.equal(200);
        return answer.body;
    }

    async function caseOf(discrepancyClass: Parameters<typeof caseIdFor>[0], messageId: string): Promise<CaseRecord> {
        const answer = await as<CaseRecord>('auditor', 'GET', `/v1/cases/${caseIdFor(discrepancyClass, 'CustomsMSP', messageId)}`);
        expect(answer.status, answer.text).to.equal(200);
        return answer.body;
    }

    before(async () => {
        harness = await GatewayHarness.start();
        tokens = await harness.personaTokens();
        expect((await as('customs', 'POST', '/v1/documents', {
            type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: 'ZGF0YQ==',
        })).status).to.equal(201);
        // Forex has one second to confirm receipt and two to decide; tax keeps the default day.
        expect((await as('customsAdmin', 'POST', '/v1/deadline-policies', {
            documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'ForexMSP', receiptSeconds: 1, acknowledgementSeconds: 2,
        })).status).to.equal(200);
    });

    after(async () => {
        await harness?.stop();
    });

    it('lists every unconfirmed transfer with its class, and marks the ones past their deadline', async () => {
        await send('REC-TAX-1', 'TaxMSP');
        await send('REC-FOREX-1', 'ForexMSP');
        await pause(1200);
        const all = await as<{ items: Discrepancy[] }>('auditor', 'GET', '/v1/unconfirmed');
        expect(all.body.items.map((item) => [item.messageId, item.class, item.overdue])).to.deep.equal([
            ['REC-TAX-1', 'NOT_DELIVERED', false], ['REC-FOREX-1', 'NOT_DELIVERED', true],
        ]);
        const overdue = await as<{ items: Discrepancy[] }>('exporter', 'GET', '/v1/unconfirmed?overdue=true');
        expect(overdue.body.items.map((item) => item.messageId)).to.deep.equal(['REC-FOREX-1']);
        const taxView = await as<{ items: Discrepancy[] }>('tax', 'GET', '/v1/unconfirmed?recipient=TaxMSP');
        expect(taxView.body.items.map((item) => item.messageId)).to.deep.equal(['REC-TAX-1']);
        expect((await as('tax', 'GET', '/v1/unconfirmed')).status, 'an agency names itself').to.equal(403);
        expect((await as('other', 'GET', `/v1/unconfirmed?subject=${EXPORTER_USCC}`)).status).to.equal(403);
    });

    it('opens exactly one case per overdue discrepancy, with the enterprise among its parties', async () => {
        const first = await reconcile();
        expect(first).to.include({ opened: 1, closed: 0, failures: 0 });
        const again = await reconcile();
        expect(again).to.include({ opened: 0, closed: 0 });
        const opened = await caseOf('NOT_DELIVERED', 'REC-FOREX-1');
        expect(opened).to.include({ status: 'OPEN', reason: 'NOT_RECEIVED' });
        expect(opened.parties).to.include.members(['CustomsMSP', 'ForexMSP', EXPORTER_USCC]);
        const mine = await as<{ items: CaseRecord[] }>('exporter', 'GET', '/v1/cases?status=OPEN');
        expect(mine.body.items.map((entry) => entry.caseId)).to.include(opened.caseId);
    });

    it('closes the case by itself when the missing receipt arrives, and opens the next one if the decision is late', async () => {
        expect((await as('forex', 'POST', '/v1/handoffs/CustomsMSP/REC-FOREX-1/receipt', { payloadHash: sha256('REC-FOREX-1') })).status).to.equal(200);
        const settled = await reconcile();
        expect(settled).to.include({ closed: 1 });
        const closed = await caseOf('NOT_DELIVERED', 'REC-FOREX-1');
        expect(closed.status).to.equal('RESOLVED');
        expect(closed.outcome?.code).to.equal('NOW_RECEIVED');
        // The decision is late two seconds after the receipt: the first run after that opens its
        // case (on a slow machine, that may already be the run above).
        let opened = settled.opened;
        await until(async () => (opened += (await reconcile()).opened) > 0, 'a run to open a case for the late decision');
        expect(opened, 'one case for the late decision, however many runs saw it').to.equal(1);
        expect((await caseOf('NOT_ACKNOWLEDGED', 'REC-FOREX-1')).status).to.equal('OPEN');
        expect((await as('forex', 'POST', '/v1/handoffs/CustomsMSP/REC-FOREX-1/acknowledgement', { decision: 'ACCEPTED' })).status).to.equal(200);
        expect(await reconcile()).to.include({ opened: 0, closed: 1 });
        expect((await caseOf('NOT_ACKNOWLEDGED', 'REC-FOREX-1')).outcome?.code).to.equal('NOW_ACCEPTED');
    });

    it('treats content that arrived different as a discrepancy until the sender retransmits', async () => {
        await send('REC-FOREX-2', 'ForexMSP');
        expect((await as('forex', 'POST', '/v1/handoffs/CustomsMSP/REC-FOREX-2/receipt', { payloadHash: sha256('garbled') })).status).to.equal(200);
        await pause(1100);
        const mismatched = await as<{ items: Discrepancy[] }>('customs', 'GET', '/v1/unconfirmed?sender=CustomsMSP&class=CONTENT_MISMATCH');
        expect(mismatched.body.items.map((item) => item.messageId)).to.deep.equal(['REC-FOREX-2']);
        expect(await reconcile()).to.include({ opened: 1 });
        expect((await caseOf('CONTENT_MISMATCH', 'REC-FOREX-2')).reason).to.equal('CONTENT_MISMATCH');
        expect((await as('customs', 'POST', '/v1/handoffs/CustomsMSP/REC-FOREX-2/retransmissions', { attempt: 1 })).status).to.equal(200);
        expect(await reconcile()).to.include({ closed: 1 });
        expect((await caseOf('CONTENT_MISMATCH', 'REC-FOREX-2')).outcome?.code).to.equal('NOW_SENT');
        expect((await as('forex', 'POST', '/v1/handoffs/CustomsMSP/REC-FOREX-2/receipt', { payloadHash: sha256('REC-FOREX-2') })).status).to.equal(200);
        expect((await as('forex', 'POST', '/v1/handoffs/CustomsMSP/REC-FOREX-2/acknowledgement', { decision: 'ACCEPTED' })).status).to.equal(200);
    });

    it('lets a case settled by its parties go without error', async () => {
        await send('REC-FOREX-3', 'ForexMSP');
        await pause(1100);
        expect(await reconcile()).to.include({ opened: 1 });
        const caseId = caseIdFor('NOT_DELIVERED', 'CustomsMSP', 'REC-FOREX-3');
        expect((await as('customs', 'POST', `/v1/cases/${caseId}/resolution`, { resolutionCode: 'SENT_BY_POST' })).status).to.equal(200);
        expect((await as('customs', 'POST', '/v1/handoffs/CustomsMSP/REC-FOREX-3/cancellation', { reason: 'delivered on paper' })).status).to.equal(200);
        expect(await reconcile()).to.include({ closed: 1, failures: 0 });
    });

    it('never runs twice at once: a request during a run gets that run\'s report', async () => {
        // The second request is made while the first run is certainly under way: in the same turn.
        const [left, right] = await Promise.all([harness.reconciler.run('test:first'), harness.reconciler.run('test:second')]);
        expect(left.startedAt).to.equal(right.startedAt);
        expect(right.trigger).to.equal('test:first');
        const runs = await as<RunReport[]>('auditor', 'GET', '/v1/reconciliation/runs');
        expect(runs.body.length).to.be.greaterThan(3);
        expect(runs.body[0]?.trigger).to.equal('test:first');
        expect(runs.body[1]?.trigger).to.equal('api:hub-admin@CustomsMSP');
    });

    it('lets only admins and reconciliation start a run', async () => {
        expect((await as('customs', 'POST', '/v1/reconciliation/runs')).status).to.equal(403);
        expect((await as('exporter', 'POST', '/v1/reconciliation/runs')).status).to.equal(403);
        expect((await as('exporter', 'GET', '/v1/reconciliation/runs')).status).to.equal(403);
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
        const routes = harness.gateway.api.all.filter((route) => route.tag === 'Reconciliation').map((route) => `${route.method.toUpperCase()} ${route.path}`);
        expect(routes.filter((route) => !seen.has(route))).to.deep.equal([]);
    });
});
