import type { Handoff } from '@counterfoil/chaincode';
import type { Pool } from 'pg';
import { decodeCursor, encodeCursor } from './cursor';

export interface HandoffFilter {
    readonly status?: string;
    readonly overdue?: boolean;
    readonly sender?: string;
    readonly recipient?: string;
    readonly subject?: string;
    readonly documentType?: string;
    readonly documentNumber?: string;
    readonly from?: string;
    readonly to?: string;
    /** Restricts to handoffs this agency sends or receives (agencies that do not see everything). */
    readonly party?: string;
    readonly cursor?: string;
    readonly limit: number;
    /** The instant deadlines are judged at: now, for every caller but a test. */
    readonly asOf?: Date;
}

export interface HandoffView extends Handoff {
    readonly overdue: boolean;
}

/**
 * SQL for "still waiting past its deadline" as of the instant `$15`: not received in time, or
 * received but not decided in time.
 */
const OVERDUE_SQL = `((status IN ('SENT', 'MISMATCH') AND receipt_deadline < $15::timestamptz) OR (status = 'RECEIVED' AND acknowledgement_deadline < $15::timestamptz))`;

/** The filter of `listHandoffs`, the page's cursor last. */
const HANDOFF_FILTER = `($1::text IS NULL OR status = $1::text)
            AND ($2::boolean IS NULL OR ${OVERDUE_SQL} = $2::boolean)
            AND ($3::text IS NULL OR sender = $3::text)
            AND ($4::text IS NULL OR recipient = $4::text)
            AND ($5::text IS NULL OR subject = $5::text)
            AND ($6::text IS NULL OR document_type = $6::text)
            AND ($7::text IS NULL OR document_number = $7::text)
            AND ($8::timestamptz IS NULL OR sent_at >= $8::timestamptz)
            AND ($9::timestamptz IS NULL OR sent_at < $9::timestamptz)
            AND ($10::text IS NULL OR sender = $10::text OR recipient = $10::text)
            AND ($11::timestamptz IS NULL OR (sent_at, sender, message_id) < ($11::timestamptz, $12::text, $13::text))`;

const NEWEST_FIRST = 'ORDER BY sent_at DESC, sender DESC, message_id DESC LIMIT $14::integer';

/**
 * Overdue handoffs are found in two parts, each newest first through an index of its own that
 * holds the deadline it waits on, so that rows not yet late are passed over without reading
 * them: still owed a receipt past the receipt deadline, and received but still owed a decision
 * past the acknowledgement deadline. The two pages merge.
 */
const OVERDUE_HANDOFFS_SQL = `SELECT record, true AS overdue, sent_at, sender, message_id FROM (
           (SELECT record, sent_at, sender, message_id FROM handoffs
             WHERE status IN ('SENT', 'MISMATCH') AND receipt_deadline < $15::timestamptz AND ${HANDOFF_FILTER} ${NEWEST_FIRST})
           UNION ALL
           (SELECT record, sent_at, sender, message_id FROM handoffs
             WHERE status = 'RECEIVED' AND acknowledgement_deadline < $15::timestamptz AND ${HANDOFF_FILTER} ${NEWEST_FIRST})
        ) AS late ${NEWEST_FIRST}`;

/** Handoffs by filter, newest first, from the query tables. */
export async function listHandoffs(pool: Pool, filter: HandoffFilter): Promise<{ items: HandoffView[]; nextCursor: string | null }> {
    const after = decodeCursor(filter.cursor, ['time', 'text', 'text']);
    const result = await pool.query<{ record: Handoff; overdue: boolean; sent_at: Date; sender: string; message_id: string }>(
        filter.overdue === true ? OVERDUE_HANDOFFS_SQL : `SELECT record, ${OVERDUE_SQL} AS overdue, sent_at, sender, message_id FROM handoffs WHERE ${HANDOFF_FILTER} ${NEWEST_FIRST}`,
        [filter.status ?? null, filter.overdue ?? null, filter.sender ?? null, filter.recipient ?? null, filter.subject ?? null,
            filter.documentType ?? null, filter.documentNumber ?? null, filter.from ?? null, filter.to ?? null, filter.party ?? null,
            after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, filter.limit + 1, filter.asOf ?? new Date()],
    );
    const rows = result.rows.slice(0, filter.limit);
    const last = rows.at(-1);
    return {
        items: rows.map((row) => ({ ...row.record, overdue: row.overdue })),
        nextCursor: result.rows.length > filter.limit && last ? encodeCursor([last.sent_at.toISOString(), last.sender, last.message_id]) : null,
    };
}

export interface HandoffStep {
    readonly sender: string;
    readonly messageId: string;
    readonly transactionId: string;
    readonly blockNumber: number;
    readonly name: string;
    readonly status: string;
    readonly at: string;
}

export async function handoffSteps(pool: Pool, handoffs: readonly { sender: string; messageId: string }[]): Promise<HandoffStep[]> {
    if (handoffs.length === 0) {
        return [];
    }
    const result = await pool.query<{ sender: string; message_id: string; transaction_id: string; block_number: string; name: string; status: string; occurred_at: Date }>(
        `SELECT s.sender, s.message_id, s.transaction_id, s.block_number, s.name, s.status, s.occurred_at
           FROM handoff_steps s JOIN unnest($1::text[], $2::text[]) AS wanted (sender, message_id)
             ON s.sender = wanted.sender AND s.message_id = wanted.message_id
          ORDER BY s.block_number, s.occurred_at`,
        [handoffs.map((handoff) => handoff.sender), handoffs.map((handoff) => handoff.messageId)],
    );
    return result.rows.map((row) => ({
        sender: row.sender, messageId: row.message_id, transactionId: row.transaction_id, blockNumber: Number(row.block_number),
        name: row.name, status: row.status, at: row.occurred_at.toISOString(),
    }));
}
