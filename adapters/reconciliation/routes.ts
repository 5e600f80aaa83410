import type { RouteSpec } from '../../gateway/openapi/api';
import { Problem } from '../../gateway/http/problem';
import { seesEverything } from '../../gateway/auth/principal';
import { decodeCursor, encodeCursor, pageLimit } from '../../gateway/queries/cursor';
import { PARAMETERS } from '../../gateway/routes/parameters';
import type { Services } from '../../gateway/services';
import { DISCREPANCY_CLASSES, type DiscrepancyClass, unconfirmedTransfers } from './discrepancies';
import type { Reconciler } from './reconciler';

const DISCREPANCY = {
    type: 'object', additionalProperties: false,
    required: ['class', 'sender', 'messageId', 'recipient', 'subject', 'status', 'sentAt', 'deadline', 'overdue', 'ageSeconds', 'retransmissions'],
    properties: {
        class: { type: 'string', enum: [...DISCREPANCY_CLASSES] }, sender: { type: 'string' }, messageId: { type: 'string' }, recipient: { type: 'string' },
        subject: { type: ['string', 'null'], description: 'null when only the recipient\'s system knows of the transfer' },
        status: { type: 'string', description: 'the handoff\'s status on the ledger, or NOT_ON_LEDGER' }, sentAt: { type: 'string', format: 'date-time' }, deadline: { type: 'string', format: 'date-time' },
        overdue: { type: 'boolean' }, ageSeconds: { type: 'integer' }, retransmissions: { type: 'integer' },
        reason: { type: 'string', description: 'off the ledger: why the ledger does not have it' },
    },
};

const RUN = {
    type: 'object', additionalProperties: false, required: ['trigger', 'startedAt', 'finishedAt', 'examined', 'opened', 'closed', 'failures', 'offLedger'],
    properties: {
        trigger: { type: 'string' }, startedAt: { type: 'string', format: 'date-time' }, finishedAt: { type: 'string', format: 'date-time' },
        examined: { type: 'integer' }, opened: { type: 'integer' }, closed: { type: 'integer' }, failures: { type: 'integer' },
        offLedger: { type: 'integer', description: 'overdue discrepancies with no handoff on the ledger to open a case against' },
    },
};

export function reconciliationRoutes(reconciler: Reconciler, services: Services): RouteSpec[] {
    return [
        {
            method: 'get', path: '/v1/unconfirmed', tag: 'Reconciliation',
            query: {
                sender: PARAMETERS.agency, recipient: PARAMETERS.agency, subject: PARAMETERS.uscc,
                class: { type: 'string', enum: [...DISCREPANCY_CLASSES] }, overdue: { ...PARAMETERS.boolean, description: 'true: only past their deadline' },
                minAgeSeconds: { type: 'string', pattern: '^[0-9]{1,9}$', description: 'sent at least this long ago' },
                cursor: PARAMETERS.cursor, limit: PARAMETERS.limit,
            },
            summary: 'Unconfirmed transfers: every handoff still owed a receipt or a decision, or rejected, and every agency record naming a handoff the ledger lacks, oldest first',
            responses: { 200: { description: 'A page of discrepancies', schema: { type: 'object', additionalProperties: false, required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: DISCREPANCY }, nextCursor: { oneOf: [{ type: 'string' }, { type: 'null' }] } } } } },
            handler: async ({ principal, query }) => {
                if (principal.uscc && query.subject !== undefined && query.subject !== principal.uscc) {
                    throw new Problem('FORBIDDEN', `enterprise ${principal.uscc} may see only its own transfers`, 'subject');
                }
                const agencyView = !principal.uscc && !seesEverything(principal);
                if (agencyView && query.sender !== principal.org && query.recipient !== principal.org) {
                    throw new Problem('FORBIDDEN', `${principal.org} must name itself as sender or recipient`, query.sender ? 'sender' : 'recipient');
                }
                const limit = pageLimit(query.limit);
                const after = decodeCursor(query.cursor, ['time', 'text', 'text']);
                const items = await unconfirmedTransfers(services.pool, {
                    sender: query.sender, recipient: query.recipient, subject: principal.uscc ?? query.subject,
                    class: query.class as DiscrepancyClass | undefined, overdueOnly: query.overdue === 'true',
                    minAgeSeconds: query.minAgeSeconds === undefined ? undefined : Number(query.minAgeSeconds),
                    limit: limit + 1, afterKey: after as [string, string, string] | undefined,
                });
                const page = items.slice(0, limit);
                const last = page.at(-1);
                return { status: 200, body: { items: page, nextCursor: items.length > limit && last ? encodeCursor([last.sentAt, last.sender, last.messageId]) : null } };
            },
        },
        {
            method: 'post', path: '/v1/reconciliation/runs', tag: 'Reconciliation',
            summary: 'Reconcile now (admins and reconciliation): a case for each overdue discrepancy, settled cases closed',
            responses: { 200: { description: 'The run\'s report (a run already under way answers with its own)', schema: RUN } },
            handler: async ({ principal }) => {
                if (principal.uscc || (principal.role !== 'admin' && principal.role !== 'reconciler')) {
                    throw new Problem('FORBIDDEN', 'only admins and reconciliation may start a reconciliation run', 'authorization');
                }
                return { status: 200, body: await reconciler.run(`api:${principal.subject}@${principal.org}`) };
            },
        },
        {
            method: 'get', path: '/v1/reconciliation/runs', tag: 'Reconciliation',
            summary: 'The latest reconciliation runs (agencies and auditors)',
            responses: { 200: { description: 'Runs, newest first', schema: { type: 'array', items: RUN } } },
            handler: async ({ principal }) => {
                if (principal.uscc) {
                    throw new Problem('FORBIDDEN', 'reconciliation runs are for agencies and auditors', 'authorization');
                }
                const result = await services.pool.query<{ trigger: string; started_at: Date; finished_at: Date; examined: number; opened: number; closed: number; failures: number; off_ledger: number }>(
                    'SELECT trigger, started_at, finished_at, examined, opened, closed, failures, off_ledger FROM reconciliation_runs ORDER BY id DESC LIMIT 50');
                return {
                    status: 200,
                    body: result.rows.map((row) => ({
                        trigger: row.trigger, startedAt: row.started_at.toISOString(), finishedAt: row.finished_at.toISOString(),
                        examined: row.examined, opened: row.opened, closed: row.closed, failures: row.failures, offLedger: row.off_ledger,
                    })),
                };
            },
        },
    ];
}
