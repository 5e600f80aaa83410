import type { Pool } from 'pg';

/**
 * What can be wrong with a transfer. The first four are seen on the ledger; the last two by
 * comparing the ledger with the agency systems' own records, as their adapters read them: the
 * sender's system sent it but the ledger never recorded the send, or the recipient's system
 * received it but the sender's side never reached the ledger.
 */
export const DISCREPANCY_CLASSES = ['NOT_DELIVERED', 'NOT_ACKNOWLEDGED', 'CONTENT_MISMATCH', 'REJECTED', 'NEVER_RECORDED', 'RECIPIENT_ONLY'] as const;
export type DiscrepancyClass = (typeof DISCREPANCY_CLASSES)[number];
/** The classes with no handoff on the ledger to open a case against. */
export const OFF_LEDGER_CLASSES: readonly DiscrepancyClass[] = ['NEVER_RECORDED', 'RECIPIENT_ONLY'];

/**
 * How long an agency's record may wait for its counterpart on the ledger (adapters of different
 * agencies run at their own pace) before it is a discrepancy.
 */
export const OFF_LEDGER_GRACE_SECONDS = 300;

/** The class of a handoff's status, or undefined when nothing is owed any more. */
export const CLASS_OF_STATUS: Readonly<Record<string, DiscrepancyClass | undefined>> = {
    SENT: 'NOT_DELIVERED', RECEIVED: 'NOT_ACKNOWLEDGED', MISMATCH: 'CONTENT_MISMATCH', REJECTED: 'REJECTED', ACCEPTED: undefined, CANCELLED: undefined,
};

/** The same mapping in SQL, over the handoffs table's status column. */
const CLASS_OF_STATUS_SQL = `CASE status ${Object.entries(CLASS_OF_STATUS).filter(([, value]) => value).map(([status, value]) => `WHEN '${status}' THEN '${value as string}'`).join(' ')} END`;

export interface Discrepancy {
    readonly class: DiscrepancyClass;
    readonly sender: string;
    readonly messageId: string;
    readonly recipient: string;
    /** The enterprise, or null when only the recipient's system knows of the transfer. */
    readonly subject: string | null;
    /** The handoff's status on the ledger; NOT_ON_LEDGER for the off-ledger classes. */
    readonly status: string;
    /** When it was sent (off the ledger: when the adapter read the agency's record). */
    readonly sentAt: string;
    /** The deadline the transfer is waiting on (for REJECTED: the rejection time). */
    readonly deadline: string;
    readonly overdue: boolean;
    /** Seconds since the transfer was sent. */
    readonly ageSeconds: number;
    readonly retransmissions: number;
    /** Off the ledger: why the ledger does not have it. */
    readonly reason?: string;
}

export interface DiscrepancyFilter {
    readonly sender?: string;
    readonly recipient?: string;
    readonly subject?: string;
    readonly class?: DiscrepancyClass;
    readonly overdueOnly?: boolean;
    readonly minAgeSeconds?: number;
    readonly limit: number;
    readonly afterKey?: readonly [string, string, string];
    /** Seconds an agency's record may wait for the ledger before it is overdue (OFF_LEDGER_GRACE_SECONDS). */
    readonly graceSeconds?: number;
    /** Only transfers one of these organisations sends (an agency's own gateway). */
    readonly senders?: readonly string[];
}

/** The filter of `unconfirmedTransfers`, applied to each source of transfers (`t`). */
const TRANSFER_FILTER = `($1::text IS NULL OR t.sender = $1::text) AND ($2::text IS NULL OR t.recipient = $2::text)
           AND ($3::text IS NULL OR t.subject = $3::text)
           AND ($4::text IS NULL OR t.class = $4::text)
           AND ($5::float8 IS NULL OR t.sent_at <= now() - make_interval(secs => $5::float8))
           AND (NOT $6::boolean OR t.deadline < now() OR t.class = 'REJECTED')
           AND ($7::timestamptz IS NULL OR (t.sent_at, t.sender, t.message_id) > ($7::timestamptz, $8::text, $9::text))
           AND ($12::text[] IS NULL OR t.sender = ANY($12::text[]))`;

/**
 * Every unconfirmed transfer matching the filter, oldest first, with its class and whether it is
 * overdue: handoffs on the ledger still owed a receipt or a decision, or rejected; and the agency
 * records the adapters hold that name a handoff the ledger lacks (refused for good, or still
 * waiting for it).
 */
export async function unconfirmedTransfers(pool: Pool, filter: DiscrepancyFilter): Promise<Discrepancy[]> {
    const result = await pool.query<{
        class: DiscrepancyClass; sender: string; message_id: string; recipient: string; subject: string | null; status: string;
        sent_at: Date; deadline: Date; overdue: boolean; age: number; retransmissions: number; reason: string | null;
    }>(
        `WITH on_ledger AS (
            SELECT ${CLASS_OF_STATUS_SQL} AS class,
                   sender, message_id, recipient, subject, status, sent_at,
                   CASE WHEN status IN ('SENT', 'MISMATCH') THEN receipt_deadline
                        WHEN status = 'RECEIVED' THEN acknowledgement_deadline ELSE updated_at END AS deadline,
                   (record ->> 'retransmissions')::integer AS retransmissions, NULL::text AS reason
              FROM handoffs
             WHERE status IN ('SENT', 'RECEIVED', 'MISMATCH', 'REJECTED')
        ), refused AS (
            -- Sent by the agency's system, refused by the ledger for good: overdue at once.
            SELECT 'NEVER_RECORDED' AS class, q.organisation AS sender, q.record ->> 'messageId' AS message_id, q.record ->> 'recipient' AS recipient,
                   q.record ->> 'subject' AS subject, 'NOT_ON_LEDGER' AS status, q.quarantined_at AS sent_at, q.quarantined_at AS deadline,
                   0 AS retransmissions, q.reason
              FROM adapter_quarantine q
             WHERE q.feed = 'outbox' AND q.record ->> 'kind' = 'handoff' AND q.organisation IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.sender = q.organisation AND h.message_id = q.record ->> 'messageId')
        ), waiting AS (
            -- Waiting for the ledger: the sender's handoff (its document missing), or the recipient's
            -- receipt or decision (the send missing). One row per message, its oldest record.
            SELECT DISTINCT ON (p.sender, p.message_id)
                   CASE p.feed WHEN 'outbox' THEN 'NEVER_RECORDED' ELSE 'RECIPIENT_ONLY' END AS class, p.sender, p.message_id, p.recipient, p.subject,
                   'NOT_ON_LEDGER' AS status, p.parked_at AS sent_at, p.parked_at + make_interval(secs => $11::float8) AS deadline, 0 AS retransmissions, p.reason
              FROM adapter_parked p
             WHERE NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.sender = p.sender AND h.message_id = p.message_id)
             ORDER BY p.sender, p.message_id, p.id
        )
        -- Each source pages on its own (oldest first, through an index where it is large), then the pages merge.
        SELECT class, sender, message_id, recipient, subject, status, sent_at, deadline, retransmissions, reason,
               deadline < now() OR class = 'REJECTED' AS overdue, extract(epoch FROM now() - sent_at)::float8 AS age
          FROM ((SELECT * FROM on_ledger t WHERE ${TRANSFER_FILTER} ORDER BY sent_at, sender, message_id LIMIT $10::integer)
                UNION ALL
                (SELECT * FROM refused t WHERE ${TRANSFER_FILTER} ORDER BY sent_at, sender, message_id LIMIT $10::integer)
                UNION ALL
                (SELECT * FROM waiting t WHERE ${TRANSFER_FILTER} ORDER BY sent_at, sender, message_id LIMIT $10::integer)) AS transfers
         ORDER BY sent_at, sender, message_id
         LIMIT $10::integer`,
        [filter.sender ?? null, filter.recipient ?? null, filter.subject ?? null, filter.class ?? null,
            filter.minAgeSeconds ?? null, filter.overdueOnly ?? false,
            filter.afterKey?.[0] ?? null, filter.afterKey?.[1] ?? null, filter.afterKey?.[2] ?? null, filter.limit,
            filter.graceSeconds ?? OFF_LEDGER_GRACE_SECONDS, filter.senders ?? null],
    );
    return result.rows.map((row) => ({
        class: row.class, sender: row.sender, messageId: row.message_id, recipient: row.recipient, subject: row.subject,
        status: row.status, sentAt: row.sent_at.toISOString(), deadline: row.deadline.toISOString(), overdue: row.overdue,
        ageSeconds: Math.floor(row.age), retransmissions: row.retransmissions, ...(row.reason === null ? {} : { reason: row.reason }),
    }));
}
