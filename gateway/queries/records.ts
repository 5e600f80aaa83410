import type { CaseRecord, DocumentRecord, VerificationRecord } from '@counterfoil/chaincode';
import type { Pool } from 'pg';
import { decodeCursor, encodeCursor } from './cursor';

export async function listDocuments(pool: Pool, filter: Readonly<{ holder?: string; issuer?: string; type?: string; number?: string; cursor?: string; limit: number }>): Promise<{ items: DocumentRecord[]; nextCursor: string | null }> {
    const after = decodeCursor(filter.cursor, ['text', 'text']);
    const result = await pool.query<{ record: DocumentRecord; type: string; number: string }>(
        `SELECT record, type, number FROM documents
          WHERE ($1::text IS NULL OR holder = $1::text) AND ($2::text IS NULL OR issuer = $2::text)
            AND ($3::text IS NULL OR type = $3::text) AND ($4::text IS NULL OR number = $4::text)
            AND ($5::text IS NULL OR (type, number) > ($5::text, $6::text))
          ORDER BY type, number LIMIT $7::integer`,
        [filter.holder ?? null, filter.issuer ?? null, filter.type ?? null, filter.number ?? null, after?.[0] ?? null, after?.[1] ?? null, filter.limit + 1],
    );
    const rows = result.rows.slice(0, filter.limit);
    const last = rows.at(-1);
    return {
        items: rows.map((row) => withExpiry(row.record)),
        nextCursor: result.rows.length > filter.limit && last ? encodeCursor([last.type, last.number]) : null,
    };
}

/** The query tables hold the status as last written; expiry is a matter of the clock, as in the chaincode. */
export function withExpiry(record: DocumentRecord): DocumentRecord {
    if ((record.status === 'ACTIVE' || record.status === 'EXHAUSTED') && new Date().toISOString() > record.validTo) {
        return { ...record, status: 'EXPIRED' };
    }
    return record;
}

export async function verificationsOf(pool: Pool, filter: Readonly<{ declarationNumber?: string; holder?: string }>): Promise<VerificationRecord[]> {
    const result = await pool.query<{ record: VerificationRecord }>(
        `SELECT record FROM verifications WHERE ($1::text IS NULL OR declaration_number = $1::text) AND ($2::text IS NULL OR holder = $2::text)
          ORDER BY verified_at LIMIT 1000`,
        [filter.declarationNumber ?? null, filter.holder ?? null],
    );
    return result.rows.map((row) => row.record);
}

export async function listCases(pool: Pool, filter: Readonly<{ party?: string; status?: string; cursor?: string; limit: number }>): Promise<{ items: CaseRecord[]; nextCursor: string | null }> {
    const after = decodeCursor(filter.cursor, ['time', 'text']);
    const result = await pool.query<{ record: CaseRecord; opened_at: Date; case_id: string }>(
        `SELECT record, opened_at, case_id FROM cases
          WHERE ($1::text IS NULL OR $1::text = ANY (parties)) AND ($2::text IS NULL OR status = $2::text)
            AND ($3::timestamptz IS NULL OR (opened_at, case_id) < ($3::timestamptz, $4::text))
          ORDER BY opened_at DESC, case_id DESC LIMIT $5::integer`,
        [filter.party ?? null, filter.status ?? null, after?.[0] ?? null, after?.[1] ?? null, filter.limit + 1],
    );
    const rows = result.rows.slice(0, filter.limit);
    const last = rows.at(-1);
    return {
        items: rows.map((row) => row.record),
        nextCursor: result.rows.length > filter.limit && last ? encodeCursor([last.opened_at.toISOString(), last.case_id]) : null,
    };
}

/** A declaration as an enterprise's list shows it: the document, and each handoff of its data with where it stands. */
export interface DeclarationSummary {
    readonly number: string;
    readonly status: string;
    readonly issuedAt: string;
    readonly handoffs: readonly { readonly agency: string; readonly messageId: string; readonly status: string; readonly sentAt: string; readonly overdue: boolean }[];
}

/**
 * An enterprise's export declarations, newest number first, a page at a time, each with every
 * handoff of its data: the list that replaces one page of every timeline.
 */
export async function declarationsOf(pool: Pool, filter: Readonly<{ holder: string; cursor?: string; limit: number; asOf?: Date }>): Promise<{ items: DeclarationSummary[]; nextCursor: string | null }> {
    const after = decodeCursor(filter.cursor, ['text']);
    const result = await pool.query<{ number: string; record: DocumentRecord; handoffs: DeclarationSummary['handoffs'] }>(
        `WITH page AS (
            SELECT number, record FROM documents
             WHERE holder = $1::text AND type = 'EXPORT_DECLARATION' AND ($2::text IS NULL OR number < $2::text)
             ORDER BY number DESC LIMIT $3::integer)
         SELECT p.number, p.record,
                COALESCE(jsonb_agg(jsonb_build_object('agency', h.recipient, 'messageId', h.message_id, 'status', h.status, 'sentAt', h.sent_at,
                    'overdue', (h.status IN ('SENT', 'MISMATCH') AND h.receipt_deadline < $4::timestamptz) OR (h.status = 'RECEIVED' AND h.acknowledgement_deadline < $4::timestamptz))
                    ORDER BY h.recipient, h.sent_at) FILTER (WHERE h.message_id IS NOT NULL), '[]') AS handoffs
           FROM page p LEFT JOIN handoffs h ON h.document_type = 'EXPORT_DECLARATION' AND h.document_number = p.number AND h.subject = $1::text
          GROUP BY p.number, p.record ORDER BY p.number DESC`,
        [filter.holder, after?.[0] ?? null, filter.limit + 1, filter.asOf ?? new Date()],
    );
    const rows = result.rows.slice(0, filter.limit);
    const last = rows.at(-1);
    return {
        items: rows.map((row) => ({
            number: row.number, status: withExpiry(row.record).status, issuedAt: row.record.issuedAt,
            handoffs: row.handoffs.map((handoff) => ({ ...handoff, sentAt: new Date(handoff.sentAt).toISOString() })),
        })),
        nextCursor: result.rows.length > filter.limit && last ? encodeCursor([last.number]) : null,
    };
}
