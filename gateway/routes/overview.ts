import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import { seesEverything } from '../auth/principal';
import type { Services } from '../services';

const PAIR = {
    type: 'object', additionalProperties: false,
    required: ['sender', 'recipient', 'handoffs', 'byStatus', 'confirmed', 'confirmationRate', 'overdue', 'receiptSecondsMedian', 'receiptSecondsMax'],
    properties: {
        sender: { type: 'string' }, recipient: { type: 'string' }, handoffs: { type: 'integer' },
        byStatus: { type: 'object', additionalProperties: { type: 'integer' } },
        confirmed: { type: 'integer', description: 'received or decided' },
        confirmationRate: { type: 'number', description: 'confirmed / handoffs' },
        overdue: { type: 'integer' },
        receiptSecondsMedian: { oneOf: [{ type: 'number' }, { type: 'null' }], description: 'from send to receipt: the lag' },
        receiptSecondsMax: { oneOf: [{ type: 'number' }, { type: 'null' }] },
    },
};

/**
 * `GET /v1/overview`: the hub at a glance for agencies and auditors — handoffs per agency pair by
 * status, confirmation rate, overdue, the send-to-receipt lag per pair, and handoffs sent per
 * minute over the last hour. An agency sees the pairs it is part of.
 */
export function overviewRoutes(services: Services): RouteSpec[] {
    return [{
        method: 'get', path: '/v1/ledger', tag: 'Overview', summary: 'Who orders the ledger\'s blocks: the embedded ledger, or each validator of the network with its height and whether it is in step',
        responses: {
            200: {
                description: 'The consensus status', schema: {
                    type: 'object', additionalProperties: false, required: ['engine', 'height'],
                    properties: {
                        engine: { type: 'string', enum: ['embedded', 'cometbft'] },
                        height: { type: 'integer', description: 'the last height the hub\'s node committed' },
                        chainId: { type: 'string' },
                        node: { type: 'string', description: 'the validator the hub works through' },
                        validators: {
                            type: 'array', items: {
                                type: 'object', additionalProperties: false, required: ['name', 'inStep'],
                                properties: { name: { type: 'string' }, height: { type: 'integer' }, inStep: { type: 'boolean', description: 'within one height of the hub\'s node' } },
                            },
                        },
                    },
                },
            },
        },
        handler: async ({ principal }) => {
            if (principal.uscc) {
                throw new Problem('FORBIDDEN', 'the ledger\'s status is for agencies and auditors', 'authorization');
            }
            return { status: 200, body: await services.ledger.consensus() };
        },
    }, {
        method: 'get', path: '/v1/overview', tag: 'Overview', summary: 'Handoffs per agency pair, confirmation rate, overdue, lag, and throughput over the last hour',
        responses: {
            200: {
                description: 'The overview', schema: {
                    type: 'object', additionalProperties: false, required: ['pairs', 'totals', 'perMinute', 'openCases'],
                    properties: {
                        pairs: { type: 'array', items: PAIR },
                        totals: { type: 'object', additionalProperties: false, required: ['handoffs', 'confirmed', 'overdue'], properties: { handoffs: { type: 'integer' }, confirmed: { type: 'integer' }, overdue: { type: 'integer' } } },
                        perMinute: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['minute', 'sent'], properties: { minute: { type: 'string' }, sent: { type: 'integer' } } } },
                        openCases: { type: 'integer' },
                    },
                },
            },
        },
        handler: async ({ principal }) => {
            if (principal.uscc) {
                throw new Problem('FORBIDDEN', 'the overview is for agencies and auditors; enterprises trace their own data', 'authorization');
            }
            const party = seesEverything(principal) ? null : principal.org;
            const counts = await services.pool.query<{ sender: string; recipient: string; status: string; count: string; overdue: string }>(
                `SELECT sender, recipient, status, count(*) AS count,
                        count(*) FILTER (WHERE (status IN ('SENT', 'MISMATCH') AND receipt_deadline < now()) OR (status = 'RECEIVED' AND acknowledgement_deadline < now())) AS overdue
                   FROM handoffs WHERE $1::text IS NULL OR sender = $1::text OR recipient = $1::text
                  GROUP BY sender, recipient, status`, [party]);
            const lags = await services.pool.query<{ sender: string; recipient: string; median: number | null; max: number | null }>(
                `SELECT sender, recipient, percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS median, max(lag) AS max
                   FROM (SELECT sender, recipient, extract(epoch FROM (record -> 'receipt' ->> 'at')::timestamptz - sent_at)::float8 AS lag
                           FROM handoffs WHERE record -> 'receipt' IS NOT NULL AND ($1::text IS NULL OR sender = $1::text OR recipient = $1::text)) AS received
                  GROUP BY sender, recipient`, [party]);
            const lagOf = new Map(lags.rows.map((row) => [`${row.sender}→${row.recipient}`, row]));
            const byPair = new Map<string, { sender: string; recipient: string; byStatus: Record<string, number>; overdue: number }>();
            for (const row of counts.rows) {
                const key = `${row.sender}→${row.recipient}`;
                const entry = byPair.get(key) ?? { sender: row.sender, recipient: row.recipient, byStatus: {}, overdue: 0 };
                entry.byStatus[row.status] = Number(row.count);
                entry.overdue += Number(row.overdue);
                byPair.set(key, entry);
            }
            const confirmedStatuses = ['RECEIVED', 'ACCEPTED', 'REJECTED'];
            const tenths = (value: number | null | undefined): number | null => (value === null || value === undefined ? null : Math.round(value * 10) / 10);
            const result = [...byPair.entries()].sort(([left], [right]) => left.localeCompare(right)).map(([key, entry]) => {
                const handoffs = Object.values(entry.byStatus).reduce((sum, count) => sum + count, 0);
                const confirmed = confirmedStatuses.reduce((sum, status) => sum + (entry.byStatus[status] ?? 0), 0);
                return {
                    sender: entry.sender, recipient: entry.recipient, handoffs, byStatus: entry.byStatus, confirmed,
                    confirmationRate: handoffs === 0 ? 0 : Math.round((confirmed / handoffs) * 1000) / 1000, overdue: entry.overdue,
                    receiptSecondsMedian: tenths(lagOf.get(key)?.median), receiptSecondsMax: tenths(lagOf.get(key)?.max),
                };
            });
            const perMinute = await services.pool.query<{ minute: Date; sent: string }>(
                `SELECT date_trunc('minute', sent_at) AS minute, count(*) AS sent FROM handoffs
                  WHERE sent_at > now() - interval '1 hour' AND ($1::text IS NULL OR sender = $1::text OR recipient = $1::text)
                  GROUP BY 1 ORDER BY 1`, [party]);
            const openCases = await services.pool.query<{ count: string }>(
                "SELECT count(*) AS count FROM cases WHERE status = 'OPEN' AND ($1::text IS NULL OR $1::text = ANY (parties))", [party]);
            return {
                status: 200,
                body: {
                    pairs: result,
                    totals: {
                        handoffs: result.reduce((sum, pair) => sum + pair.handoffs, 0), confirmed: result.reduce((sum, pair) => sum + pair.confirmed, 0),
                        overdue: result.reduce((sum, pair) => sum + pair.overdue, 0),
                    },
                    perMinute: perMinute.rows.map((row) => ({ minute: row.minute.toISOString(), sent: Number(row.sent) })),
                    openCases: Number(openCases.rows[0]?.count ?? 0),
                },
            };
        },
    }];
}
