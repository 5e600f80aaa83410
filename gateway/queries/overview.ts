import type { Pool, PoolClient } from 'pg';

export interface PairOverview {
    readonly sender: string;
    readonly recipient: string;
    readonly handoffs: number;
    readonly byStatus: Record<string, number>;
    readonly confirmed: number;
    readonly confirmationRate: number;
    readonly overdue: number;
    readonly receiptSecondsMedian: number | null;
    readonly receiptSecondsMax: number | null;
}

export interface Overview {
    readonly pairs: PairOverview[];
    readonly totals: { readonly handoffs: number; readonly confirmed: number; readonly overdue: number };
    readonly perMinute: { readonly minute: string; readonly sent: number }[];
    /** Handoffs still waiting past their deadline, by the hour the deadline passed (the last 24 hours). */
    readonly overdueByHour: { readonly hour: string; readonly overdue: number }[];
    readonly openCases: number;
}

const CONFIRMED = ['RECEIVED', 'ACCEPTED', 'REJECTED'];
const tenths = (value: number | null | undefined): number | null => (value === null || value === undefined ? null : Math.round(value * 10) / 10);

/** The pairs a party sees: every pair (null), or those it sends or receives in. */
const PAIR_FILTER = '($1::text IS NULL OR sender = $1::text OR recipient = $1::text)';

/**
 * The hub at a glance, from the counts the query tables keep (`005_overview_counts`): its cost
 * grows with the number of agency pairs and of hours with handoffs waiting, not with handoffs.
 * Overdue is exact: the waiting handoffs of past hours, and those of the current hour whose
 * deadline has passed, looked up one by one. The median and the longest lag are those of their
 * histogram buckets (within 0.1 s below 10 s, within 1 % above). Deadlines are judged at
 * `asOf` (the database's clock when left out).
 */
export async function overview(pool: Pool | PoolClient, party: string | null, asOf?: Date): Promise<Overview> {
    const at = asOf ?? null;
    const [counts, waiting, current, lags, perMinute, openCases, byHour] = await Promise.all([
        pool.query<{ sender: string; recipient: string; status: string; count: string }>(
            `SELECT sender, recipient, status, count FROM overview_status_counts WHERE count > 0 AND ${PAIR_FILTER}`, [party]),
        pool.query<{ sender: string; recipient: string; count: string }>(
            `SELECT sender, recipient, sum(count) AS count FROM overview_waiting
              WHERE hour < date_trunc('hour', coalesce($2::timestamptz, now()) AT TIME ZONE 'UTC') AND count > 0 AND ${PAIR_FILTER} GROUP BY 1, 2`, [party, at]),
        pool.query<{ sender: string; recipient: string; count: string }>(
            `SELECT sender, recipient, count(*) AS count FROM (
                SELECT sender, recipient FROM handoffs WHERE status IN ('SENT', 'MISMATCH')
                   AND receipt_deadline >= date_trunc('hour', coalesce($2::timestamptz, now()) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AND receipt_deadline < coalesce($2::timestamptz, now())
                UNION ALL
                SELECT sender, recipient FROM handoffs WHERE status = 'RECEIVED'
                   AND acknowledgement_deadline >= date_trunc('hour', coalesce($2::timestamptz, now()) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AND acknowledgement_deadline < coalesce($2::timestamptz, now())) AS late
              WHERE ${PAIR_FILTER} GROUP BY 1, 2`, [party, at]),
        pool.query<{ sender: string; recipient: string; median: number | null; max: number | null }>(
            `SELECT sender, recipient, overview_bucket_lag(min(bucket) FILTER (WHERE running * 2 >= total)) AS median, overview_bucket_lag(max(bucket)) AS max
               FROM (SELECT sender, recipient, bucket, sum(count) OVER (PARTITION BY sender, recipient ORDER BY bucket) AS running,
                            sum(count) OVER (PARTITION BY sender, recipient) AS total
                       FROM overview_receipt_lags WHERE count > 0 AND ${PAIR_FILTER}) AS cumulative
              GROUP BY 1, 2`, [party]),
        pool.query<{ minute: Date; sent: string }>(
            `SELECT minute AT TIME ZONE 'UTC' AS minute, sum(count) AS sent FROM overview_sent_minutes
              WHERE minute >= date_trunc('minute', (coalesce($2::timestamptz, now()) - interval '1 hour') AT TIME ZONE 'UTC') AND count > 0 AND ${PAIR_FILTER} GROUP BY 1 ORDER BY 1`, [party, at]),
        pool.query<{ count: string }>('SELECT count FROM overview_open_cases WHERE party = coalesce($1::text, \'*\')', [party]),
        pool.query<{ hour: Date; overdue: string }>(
            `SELECT hour AT TIME ZONE 'UTC' AS hour, sum(count) AS overdue FROM overview_waiting
              WHERE hour >= date_trunc('hour', (coalesce($2::timestamptz, now()) - interval '23 hours') AT TIME ZONE 'UTC')
                AND hour < date_trunc('hour', coalesce($2::timestamptz, now()) AT TIME ZONE 'UTC') AND count > 0 AND ${PAIR_FILTER} GROUP BY 1 ORDER BY 1`, [party, at]),
    ]);
    const key = (row: { sender: string; recipient: string }): string => `${row.sender}→${row.recipient}`;
    const overdue = new Map<string, number>();
    for (const row of [...waiting.rows, ...current.rows]) {
        overdue.set(key(row), (overdue.get(key(row)) ?? 0) + Number(row.count));
    }
    const lagOf = new Map(lags.rows.map((row) => [key(row), row]));
    const byPair = new Map<string, { sender: string; recipient: string; byStatus: Record<string, number> }>();
    for (const row of counts.rows) {
        const entry = byPair.get(key(row)) ?? { sender: row.sender, recipient: row.recipient, byStatus: {} };
        entry.byStatus[row.status] = Number(row.count);
        byPair.set(key(row), entry);
    }
    const pairs = [...byPair.entries()].sort(([left], [right]) => left.localeCompare(right)).map(([pair, entry]): PairOverview => {
        const handoffs = Object.values(entry.byStatus).reduce((sum, count) => sum + count, 0);
        const confirmed = CONFIRMED.reduce((sum, status) => sum + (entry.byStatus[status] ?? 0), 0);
        return {
            sender: entry.sender, recipient: entry.recipient, handoffs, byStatus: entry.byStatus, confirmed,
            confirmationRate: handoffs === 0 ? 0 : Math.round((confirmed / handoffs) * 1000) / 1000, overdue: overdue.get(pair) ?? 0,
            receiptSecondsMedian: tenths(lagOf.get(pair)?.median), receiptSecondsMax: tenths(lagOf.get(pair)?.max),
        };
    });
    return {
        pairs,
        totals: {
            handoffs: pairs.reduce((sum, pair) => sum + pair.handoffs, 0), confirmed: pairs.reduce((sum, pair) => sum + pair.confirmed, 0),
            overdue: pairs.reduce((sum, pair) => sum + pair.overdue, 0),
        },
        perMinute: perMinute.rows.map((row) => ({ minute: row.minute.toISOString(), sent: Number(row.sent) })),
        overdueByHour: byHour.rows.map((row) => ({ hour: row.hour.toISOString(), overdue: Number(row.overdue) })),
        openCases: Number(openCases.rows[0]?.count ?? 0),
    };
}
