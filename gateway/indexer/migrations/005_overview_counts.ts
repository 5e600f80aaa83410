import type { Migration } from '../../../network/postgres';

/** A change's rows as a statement trigger sees them: the rows it removed count -1, the ones it made +1. */
type Side = 'old_rows' | 'new_rows';

/** The handoffs a statement changed, each with its sign. */
function handoffDelta(sides: readonly Side[]): string {
    return sides.map((side) => `SELECT ${side === 'old_rows' ? -1 : 1} AS d, * FROM ${side}`).join(' UNION ALL ');
}

/** What one statement on `handoffs` changes in the overview's counts, from its transition tables. */
function handoffCounts(sides: readonly Side[]): string {
    const delta = handoffDelta(sides);
    return `
    INSERT INTO overview_status_counts AS c (sender, recipient, status, count)
        SELECT sender, recipient, status, sum(d) FROM (${delta}) AS h GROUP BY 1, 2, 3 HAVING sum(d) <> 0
        ON CONFLICT (sender, recipient, status) DO UPDATE SET count = c.count + EXCLUDED.count;
    INSERT INTO overview_waiting AS c (sender, recipient, waiting, hour, count)
        SELECT sender, recipient, waiting, hour, sum(d) FROM (
            SELECT d, sender, recipient, 'receipt' AS waiting, date_trunc('hour', receipt_deadline AT TIME ZONE 'UTC') AS hour
              FROM (${delta}) AS h WHERE status IN ('SENT', 'MISMATCH')
            UNION ALL
            SELECT d, sender, recipient, 'decision', date_trunc('hour', acknowledgement_deadline AT TIME ZONE 'UTC')
              FROM (${delta}) AS h WHERE status = 'RECEIVED') AS w
         GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0
        ON CONFLICT (sender, recipient, waiting, hour) DO UPDATE SET count = c.count + EXCLUDED.count;
    INSERT INTO overview_receipt_lags AS c (sender, recipient, bucket, count)
        SELECT sender, recipient, overview_lag_bucket(extract(epoch FROM (record -> 'receipt' ->> 'at')::timestamptz - sent_at)::float8), sum(d)
          FROM (${delta}) AS h WHERE record -> 'receipt' ->> 'at' IS NOT NULL GROUP BY 1, 2, 3 HAVING sum(d) <> 0
        ON CONFLICT (sender, recipient, bucket) DO UPDATE SET count = c.count + EXCLUDED.count;
    INSERT INTO overview_sent_minutes AS c (minute, sender, recipient, count)
        SELECT date_trunc('minute', sent_at AT TIME ZONE 'UTC'), sender, recipient, sum(d) FROM (${delta}) AS h GROUP BY 1, 2, 3 HAVING sum(d) <> 0
        ON CONFLICT (minute, sender, recipient) DO UPDATE SET count = c.count + EXCLUDED.count;`;
}

/** What one statement on `cases` changes in the count of open cases, per party and in all ('*'). */
function caseCounts(sides: readonly Side[]): string {
    const delta = sides.map((side) => `SELECT ${side === 'old_rows' ? -1 : 1} AS d, parties FROM ${side} WHERE status = 'OPEN'`).join(' UNION ALL ');
    return `
    INSERT INTO overview_open_cases AS c (party, count)
        SELECT party, sum(d) FROM (
            SELECT d, unnest(parties) AS party FROM (${delta}) AS o
            UNION ALL SELECT d, '*' FROM (${delta}) AS o) AS p
         GROUP BY 1 HAVING sum(d) <> 0
        ON CONFLICT (party) DO UPDATE SET count = c.count + EXCLUDED.count;`;
}

function triggers(table: 'handoffs' | 'cases', body: (sides: readonly Side[]) => string): string {
    const events: readonly [string, readonly Side[], string][] = [
        ['INSERT', ['new_rows'], 'REFERENCING NEW TABLE AS new_rows'],
        ['UPDATE', ['old_rows', 'new_rows'], 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'],
        ['DELETE', ['old_rows'], 'REFERENCING OLD TABLE AS old_rows'],
    ];
    return events.map(([event, sides, referencing]) => `
CREATE FUNCTION overview_${table}_${event.toLowerCase()}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${body(sides)}
    RETURN NULL;
END $$;
CREATE TRIGGER overview_${table}_${event.toLowerCase()} AFTER ${event} ON ${table} ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION overview_${table}_${event.toLowerCase()}();
`).join('');
}

/**
 * The overview from counts kept as the query tables change, not from scans: handoffs per pair and
 * status; the handoffs waiting for a receipt or a decision per pair and by the hour their
 * deadline falls in (those of past hours are overdue; only the current hour's are looked up one
 * by one); the send-to-receipt lag per pair as a histogram (0.1 s buckets below 10 s, 1 %
 * buckets above); handoffs sent per pair and minute; open cases per party.
 * Statement triggers keep them, from each statement's transition tables, in the same transaction
 * as the rows they count: an indexer batch, or a bulk load, updates each counter once.
 */
export const overviewCounts: Migration = {
    id: 5,
    name: 'overview counts',
    sql: `
CREATE FUNCTION overview_lag_bucket(lag float8) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN lag < 10 THEN greatest(floor(lag * 10), 0)::integer ELSE 100 + floor(ln(lag / 10) / ln(1.01))::integer END
$$;
-- The lag a bucket stands for: its middle.
CREATE FUNCTION overview_bucket_lag(bucket integer) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN bucket < 100 THEN (bucket + 0.5) / 10 ELSE 10 * power(1.01, bucket - 100 + 0.5) END
$$;

CREATE TABLE overview_status_counts (sender text, recipient text, status text, count bigint NOT NULL, PRIMARY KEY (sender, recipient, status));
CREATE TABLE overview_waiting (sender text, recipient text, waiting text, hour timestamp, count bigint NOT NULL, PRIMARY KEY (sender, recipient, waiting, hour));
CREATE INDEX overview_waiting_hour ON overview_waiting (hour);
CREATE TABLE overview_receipt_lags (sender text, recipient text, bucket integer, count bigint NOT NULL, PRIMARY KEY (sender, recipient, bucket));
CREATE TABLE overview_sent_minutes (minute timestamp, sender text, recipient text, count bigint NOT NULL, PRIMARY KEY (minute, sender, recipient));
CREATE TABLE overview_open_cases (party text PRIMARY KEY, count bigint NOT NULL);
${triggers('handoffs', handoffCounts)}
${triggers('cases', caseCounts)}
-- What was indexed before: counted once, as if inserted now.
CREATE TEMPORARY TABLE new_rows AS SELECT * FROM handoffs;
${handoffCounts(['new_rows'])}
DROP TABLE new_rows;
CREATE TEMPORARY TABLE new_rows AS SELECT * FROM cases;
${caseCounts(['new_rows'])}
DROP TABLE new_rows;
`,
};
