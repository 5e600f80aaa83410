import type { Handoff } from '@counterfoil/chaincode';
import type { Pool } from 'pg';

/**
 * What can be wrong with a transfer, as the ledger shows it. (Discrepancies that need the agency
 * systems' own records — sent but never recorded, recorded by the recipient only — come from the
 * adapters' feeds.)
 */
export const DISCREPANCY_CLASSES = ['NOT_DELIVERED', 'NOT_ACKNOWLEDGED', 'CONTENT_MISMATCH', 'REJECTED'] as const;
export type DiscrepancyClass = (typeof DISCREPANCY_CLASSES)[number];

/** The class of a handoff's status, or undefined when nothing is owed any more. */
export const CLASS_OF_STATUS: Readonly<Record<string, DiscrepancyClass | undefined>> = {
    SENT: 'NOT_DELIVERED', RECEIVED: 'NOT_ACKNOWLEDGED', MISMATCH: 'CONTENT_MISMATCH', REJECTED: 'REJECTED', ACCEPTED: undefined, CANCELLED: undefined,
};

export interface Discrepancy {
    readonly class: DiscrepancyClass;
    readonly sender: string;
    readonly messageId: string;
    readonly recipient: string;
    readonly subject: string;
    readonly status: string;
    readonly sentAt: string;
    /** The deadline the transfer is waiting on (for REJECTED: the rejection time). */
    readonly deadline: string;
    readonly overdue: boolean;
    /** Seconds since the transfer was sent. */
    readonly ageSeconds: number;
    readonly retransmissions: number;
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
}

/** Every unconfirmed transfer matching the filter, oldest first, with its class and whether it is overdue. */
export async function unconfirmedTransfers(pool: Pool, filter: DiscrepancyFilter): Promise<Discrepancy[]> {
    const result = await pool.query<{ record: Handoff; sent_at: Date; deadline: Date; overdue: boolean; age: number }>(
        `SELECT record, sent_at,
                CASE WHEN status IN ('SENT', 'MISMATCH') THEN receipt_deadline
                     WHEN status = 'RECEIVED' THEN acknowledgement_deadline ELSE updated_at END AS deadline,
                CASE WHEN status IN ('SENT', 'MISMATCH') THEN receipt_deadline < now()
                     WHEN status = 'RECEIVED' THEN acknowledgement_deadline < now() ELSE true END AS overdue,
                extract(epoch FROM now() - sent_at)::float8 AS age
           FROM handoffs
          WHERE status IN ('SENT', 'RECEIVED', 'MISMATCH', 'REJECTED')
            AND ($1::text IS NULL OR sender = $1::text) AND ($2::text IS NULL OR recipient = $2::text)
            AND ($3::text IS NULL OR subject = $3::text)
            AND ($4::text[] IS NULL OR status = ANY ($4::text[]))
            AND ($5::float8 IS NULL OR sent_at <= now() - make_interval(secs => $5::float8))
            AND (NOT $6::boolean OR (status IN ('SENT', 'MISMATCH') AND receipt_deadline < now())
                 OR (status = 'RECEIVED' AND acknowledgement_deadline < now()) OR status = 'REJECTED')
            AND ($7::timestamptz IS NULL OR (sent_at, sender, message_id) > ($7::timestamptz, $8::text, $9::text))
          ORDER BY sent_at, sender, message_id
          LIMIT $10::integer`,
        [filter.sender ?? null, filter.recipient ?? null, filter.subject ?? null,
            filter.class ? Object.entries(CLASS_OF_STATUS).filter(([, value]) => value === filter.class).map(([status]) => status) : null,
            filter.minAgeSeconds ?? null, filter.overdueOnly ?? false,
            filter.afterKey?.[0] ?? null, filter.afterKey?.[1] ?? null, filter.afterKey?.[2] ?? null, filter.limit],
    );
    return result.rows.map((row) => ({
        class: CLASS_OF_STATUS[row.record.status] as DiscrepancyClass,
        sender: row.record.sender, messageId: row.record.messageId, recipient: row.record.recipient, subject: row.record.subject,
        status: row.record.status, sentAt: row.sent_at.toISOString(), deadline: row.deadline.toISOString(), overdue: row.overdue,
        ageSeconds: Math.floor(row.age), retransmissions: row.record.retransmissions,
    }));
}
