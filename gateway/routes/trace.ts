import { isUscc, type DocumentRecord, type VerificationRecord } from '@counterfoil/chaincode';
import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import type { Principal } from '../auth/principal';
import { seesEverything } from '../auth/principal';
import { handoffSteps, type HandoffView, listHandoffs } from '../queries/handoffs';
import { declarationsOf, listDocuments, verificationsOf } from '../queries/records';
import { pageLimit } from '../queries/cursor';
import type { Services } from '../services';
import { PARAMETERS } from './parameters';

const STEP_NAMES: Readonly<Record<string, string>> = {
    HandoffSent: 'SENT', HandoffReceived: 'RECEIVED', HandoffMismatch: 'MISMATCH', HandoffAccepted: 'ACCEPTED',
    HandoffRejected: 'REJECTED', HandoffRetransmitted: 'RETRANSMITTED', HandoffCancelled: 'CANCELLED',
};

/**
 * Everything concerning a declaration or an enterprise: its documents, verifications, and a
 * timeline per receiving agency of every handoff, with deadlines and what is overdue. This is the
 * page an exporter opens when the refund is blocked.
 */
async function trace(services: Services, principal: Principal, query: { declaration?: string; uscc?: string }): Promise<unknown> {
    const agencyView = !principal.uscc && !seesEverything(principal);
    const subject = principal.uscc ?? query.uscc;
    const handoffs: HandoffView[] = [];
    for (let cursor: string | undefined, more = true; more && handoffs.length < 5000;) {
        const page = await listHandoffs(services.pool, {
            subject, documentType: query.declaration ? 'EXPORT_DECLARATION' : undefined, documentNumber: query.declaration,
            party: agencyView ? principal.org : undefined, cursor, limit: 200,
        });
        handoffs.push(...page.items);
        cursor = page.nextCursor ?? undefined;
        more = page.nextCursor !== null;
    }
    const documents: DocumentRecord[] = (await listDocuments(services.pool, {
        holder: subject, ...(query.declaration ? { type: 'EXPORT_DECLARATION', number: query.declaration } : {}), limit: 200,
    })).items;
    const verifications: VerificationRecord[] = await verificationsOf(services.pool, { declarationNumber: query.declaration, holder: subject });
    const steps = await handoffSteps(services.pool, handoffs);
    const byHandoff = new Map(handoffs.map((handoff) => [`${handoff.sender}\u0000${handoff.messageId}`, handoff]));
    const timelines = new Map<string, unknown[]>();
    for (const step of steps) {
        const handoff = byHandoff.get(`${step.sender}\u0000${step.messageId}`);
        if (!handoff) {
            continue;
        }
        const timeline = timelines.get(handoff.recipient) ?? [];
        timeline.push({
            at: step.at, step: STEP_NAMES[step.name] ?? step.name, status: step.status, sender: handoff.sender, recipient: handoff.recipient,
            messageId: handoff.messageId, transactionId: step.transactionId, blockNumber: step.blockNumber,
            receiptDeadline: handoff.receiptDeadline, acknowledgementDeadline: handoff.acknowledgementDeadline, overdue: handoff.overdue,
        });
        timelines.set(handoff.recipient, timeline);
    }
    return {
        query,
        documents,
        verifications,
        agencies: [...timelines.entries()].sort(([left], [right]) => left.localeCompare(right)).map(([agency, timeline]) => ({ agency, timeline })),
        handoffs,
    };
}

/** An enterprise's whole trace is for the enterprise itself, auditors and reconciliation. */
function requireOwnTrace(principal: Principal, uscc: string): void {
    if (!isUscc(uscc)) {
        throw new Problem('INVALID_ARGUMENT', 'uscc check character does not match (GB 32100)', 'uscc');
    }
    if (principal.uscc && principal.uscc !== uscc) {
        throw new Problem('FORBIDDEN', `enterprise ${principal.uscc} may trace only its own data`, 'uscc');
    }
    if (!principal.uscc && !seesEverything(principal)) {
        throw new Problem('FORBIDDEN', 'an enterprise\'s full trace is for the enterprise itself, auditors and reconciliation', 'authorization');
    }
}

export function traceRoutes(services: Services): RouteSpec[] {
    return [
        {
            method: 'get', path: '/v1/trace', tag: 'Trace', query: { declaration: { ...PARAMETERS.declaration, required: true } },
            summary: 'Every document, verification and handoff concerning one declaration, as a timeline per agency',
            responses: { 200: { description: 'The trace', schema: 'Trace' } },
            handler: async ({ principal, query }) => ({ status: 200, body: await trace(services, principal, { declaration: query.declaration }) }),
        },
        {
            method: 'get', path: '/v1/enterprises/{uscc}/trace', tag: 'Trace', params: { uscc: PARAMETERS.uscc },
            summary: 'Every document, verification and handoff concerning one enterprise, as a timeline per agency',
            responses: { 200: { description: 'The trace', schema: 'Trace' } },
            handler: async ({ principal, params }) => {
                requireOwnTrace(principal, params.uscc as string);
                return { status: 200, body: await trace(services, principal, { uscc: params.uscc }) };
            },
        },
        {
            method: 'get', path: '/v1/enterprises/{uscc}/declarations', tag: 'Trace', params: { uscc: PARAMETERS.uscc }, query: { cursor: PARAMETERS.cursor, limit: PARAMETERS.limit },
            summary: 'An enterprise\'s export declarations, newest first, a page at a time, each with where every handoff of its data stands',
            responses: { 200: { description: 'A page of declarations', schema: 'DeclarationPage' } },
            handler: async ({ principal, params, query }) => {
                requireOwnTrace(principal, params.uscc as string);
                return { status: 200, body: await declarationsOf(services.pool, { holder: params.uscc as string, cursor: query.cursor, limit: pageLimit(query.limit) }) };
            },
        },
    ];
}
