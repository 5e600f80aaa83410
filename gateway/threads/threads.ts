import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
    ATTACHMENT_TYPES, type AttachmentDigest, type AttachmentType, canonicalJson, type CaseMessage, type CaseRecord, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS,
    type ThreadMessage, unstorableText,
} from '@counterfoil/chaincode';
import { EndorseError } from '../../network/ledger';
import { ownerOf, type Principal, partyOf } from '../auth/principal';
import { Problem } from '../http/problem';
import { evaluateAs, type Services, submitAs } from '../services';

/** A thread: a case's, or a document's (a declaration's, a licence's). */
export type ThreadRef =
    | { readonly kind: 'case'; readonly caseId: string }
    | { readonly kind: 'document'; readonly type: string; readonly number: string };

/** An attachment as a message names it: the file's digest (from its upload) and the name it goes by. */
export interface AttachmentRef {
    readonly sha256: string;
    readonly name: string;
}

export interface ThreadAttachment extends AttachmentDigest {
    readonly name: string;
}

/** A message as its parties read it: the ledger's record, with the text and names kept off it. */
export interface ThreadMessageView {
    readonly sequence: number;
    readonly author: string;
    readonly at: string;
    readonly transactionId: string;
    readonly messageHash: string;
    /** Undefined when the hub holds no text whose digest is the ledger's. */
    readonly text?: string;
    readonly attachments: readonly ThreadAttachment[];
    /** The text and attachments held here are the ones whose digests the ledger holds. */
    readonly verified: boolean;
    readonly unread: boolean;
}

export interface ThreadView {
    readonly thread: string;
    readonly parties: readonly string[];
    /** How many messages the ledger has: sequences run from 1 to it. */
    readonly messageCount: number;
    /** Every message the ledger has is here, with the text and attachments it was written with. */
    readonly complete: boolean;
    readonly readThrough: number;
    readonly messages: readonly ThreadMessageView[];
}

export const MAX_TEXT = 10_000;
const MAX_NAME = 255;
/** Sending a message again after another party took its sequence number. */
const SEQUENCE_TRIES = 5;

/**
 * What a file is, from its first bytes (never its name or declared type): the kinds a thread
 * takes, or undefined for anything else.
 */
export function sniff(bytes: Buffer): AttachmentType | undefined {
    const starts = (signature: readonly number[], at = 0): boolean => signature.every((byte, index) => bytes[at + index] === byte);
    if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) {
        return 'application/pdf';
    }
    if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
        return 'image/png';
    }
    if (starts([0xff, 0xd8, 0xff])) {
        return 'image/jpeg';
    }
    if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) {
        return 'image/tiff';
    }
    if (starts([0x47, 0x49, 0x46, 0x38, 0x37, 0x61]) || starts([0x47, 0x49, 0x46, 0x38, 0x39, 0x61])) {
        return 'image/gif';
    }
    if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) {
        return 'image/webp';
    }
    return undefined;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export function threadName(thread: ThreadRef): string {
    return thread.kind === 'case' ? `case/${thread.caseId}` : `document/${thread.type}/${thread.number}`;
}

/** The request's bytes, refused past `limit` as they arrive. */
async function readBody(body: Readable, limit: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > limit) {
            body.resume();
            throw new Problem('PAYLOAD_TOO_LARGE', `an attachment may be at most ${limit} bytes`, 'body');
        }
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
}

function checkText(value: string, field: string, max: number): void {
    const unstorable = unstorableText(value);
    if (unstorable) {
        throw new Problem('INVALID_ARGUMENT', `${field} ${unstorable}`, field);
    }
    if (value.length > max) {
        throw new Problem('INVALID_ARGUMENT', `${field} must be at most ${max} characters`, field);
    }
}

/**
 * Message threads between a case's parties, or a document's. The ledger holds each message's
 * digest and its attachments' digests, in consecutive sequence; the hub keeps the text and files,
 * each under its digest, so that a thread can be shown complete and unaltered against the ledger.
 * Who may read and write is the chaincode's to say: every read asks it first.
 */
export class ThreadService {
    constructor(private readonly services: Services) {}

    /** Stores an uploaded file under its digest, for the uploader to attach. */
    async upload(principal: Principal, body: Readable, declaredBytes?: number): Promise<AttachmentDigest> {
        if (principal.role === 'auditor' || principal.role === 'reconciler') {
            throw new Problem('FORBIDDEN', 'auditors and reconciliation read threads but do not write in them', 'authorization');
        }
        if (declaredBytes !== undefined && declaredBytes > MAX_ATTACHMENT_BYTES) {
            throw new Problem('PAYLOAD_TOO_LARGE', `an attachment may be at most ${MAX_ATTACHMENT_BYTES} bytes`, 'body');
        }
        const bytes = await readBody(body, MAX_ATTACHMENT_BYTES);
        if (bytes.length === 0) {
            throw new Problem('INVALID_ARGUMENT', 'the file is empty', 'body');
        }
        const mediaType = sniff(bytes);
        if (!mediaType) {
            throw new Problem('INVALID_ARGUMENT', `the file is not one of ${ATTACHMENT_TYPES.join(', ')} (read from its bytes, whatever its name says)`, 'body');
        }
        const digest = sha256(bytes);
        await this.services.pool.query('INSERT INTO attachments (sha256, media_type, size, bytes) VALUES ($1::text, $2::text, $3::int, $4::bytea) ON CONFLICT (sha256) DO NOTHING',
            [digest, mediaType, bytes.length, bytes]);
        await this.services.pool.query('INSERT INTO attachment_uploads (sha256, uploader) VALUES ($1::text, $2::text) ON CONFLICT DO NOTHING', [digest, ownerOf(principal)]);
        return { sha256: digest, size: bytes.length, mediaType };
    }

    /** The thread's parties and length, as the chaincode answers the principal (refusing one who is not a party). */
    private async head(principal: Principal, thread: ThreadRef): Promise<{ parties: string[]; messageCount: number }> {
        if (thread.kind === 'case') {
            const record = await evaluateAs<CaseRecord>(this.services, principal, 'cases', 'Get', { caseId: thread.caseId });
            return { parties: record.parties, messageCount: record.messageCount };
        }
        return evaluateAs(this.services, principal, 'threads', 'Head', { type: thread.type, number: thread.number });
    }

    /** Writes a message: its text and attachments kept here under their digests, the digests put on the ledger. */
    async post(principal: Principal, thread: ThreadRef, request: { text: string; attachments?: readonly AttachmentRef[] }): Promise<ThreadMessageView> {
        checkText(request.text, 'text', MAX_TEXT);
        const refs = request.attachments ?? [];
        if (refs.length > MAX_ATTACHMENTS) {
            throw new Problem('INVALID_ARGUMENT', `attachments must have at most ${MAX_ATTACHMENTS} items`, 'attachments');
        }
        refs.forEach((ref, index) => checkText(ref.name, `attachments[${index}].name`, MAX_NAME));
        // Who may write is the chaincode's to say; asking it first keeps what no one may write out of the hub's store.
        let head = await this.head(principal, thread);
        const { parties } = head;
        if (principal.role === 'auditor' || principal.role === 'reconciler' || !parties.includes(partyOf(principal))) {
            throw new Problem('FORBIDDEN', `${partyOf(principal)} is not a party to ${threadName(thread)} and may not write in it`, 'authorization');
        }
        const { rows } = await this.services.pool.query<{ sha256: string; media_type: AttachmentType; size: number }>(
            `SELECT a.sha256, a.media_type, a.size FROM attachments a JOIN attachment_uploads u ON u.sha256 = a.sha256
              WHERE a.sha256 = ANY($1::text[]) AND u.uploader = $2::text`, [refs.map((ref) => ref.sha256), ownerOf(principal)]);
        const attachments: ThreadAttachment[] = refs.map((ref, index) => {
            const row = rows.find((candidate) => candidate.sha256 === ref.sha256);
            if (!row) {
                throw new Problem('INVALID_ARGUMENT', `attachments[${index}].sha256 is not a file you uploaded (POST /v1/attachments)`, `attachments[${index}].sha256`);
            }
            return { name: ref.name, sha256: row.sha256, size: row.size, mediaType: row.media_type };
        });
        const body = canonicalJson({ text: request.text, attachments });
        const messageHash = sha256(body);
        // The text is kept before the ledger has its digest: a message is never on the ledger without it.
        await this.services.pool.query('INSERT INTO message_bodies (message_hash, body) VALUES ($1::text, $2::text) ON CONFLICT (message_hash) DO NOTHING', [messageHash, body]);
        const digests = attachments.length > 0 ? { attachments: attachments.map(({ sha256: digest, size, mediaType }) => ({ sha256: digest, size, mediaType })) } : {};
        for (let attempt = 1; ; attempt++) {
            const sequence = head.messageCount + 1;
            try {
                const { record } = thread.kind === 'case'
                    ? await submitAs<CaseMessage>(this.services, principal, 'cases', 'AddMessage', { caseId: thread.caseId, sequence, messageHash, ...digests })
                    : await submitAs<ThreadMessage>(this.services, principal, 'threads', 'Post', { type: thread.type, number: thread.number, sequence, messageHash, ...digests });
                // One's own message is read.
                await this.markRead(principal, thread, record.sequence, false);
                return { sequence: record.sequence, author: record.author, at: record.at, transactionId: record.transactionId, messageHash, text: request.text, attachments, verified: true, unread: false };
            } catch (error) {
                // Another party wrote the next message first: write after it.
                if (!(error instanceof EndorseError && error.code === 'CONFLICT' && error.field === 'sequence') || attempt >= SEQUENCE_TRIES) {
                    throw error;
                }
                head = await this.head(principal, thread);
            }
        }
    }

    /** The thread as the principal may read it, each message checked against the ledger's digests. */
    async read(principal: Principal, thread: ThreadRef): Promise<ThreadView> {
        const { parties, messageCount } = await this.head(principal, thread);
        const name = threadName(thread);
        const { rows } = await this.services.pool.query<{ record: CaseMessage | ThreadMessage; body: string | null }>(
            thread.kind === 'case'
                ? `SELECT m.record, b.body FROM case_messages m LEFT JOIN message_bodies b ON b.message_hash = m.record->>'messageHash'
                    WHERE m.case_id = $1::text ORDER BY m.sequence`
                : `SELECT m.record, b.body FROM document_messages m LEFT JOIN message_bodies b ON b.message_hash = m.record->>'messageHash'
                    WHERE m.type = $1::text AND m.number = $2::text ORDER BY m.sequence`,
            thread.kind === 'case' ? [thread.caseId] : [thread.type, thread.number]);
        const readThrough = await this.readThrough(principal, name);
        const messages = rows.map(({ record, body }): ThreadMessageView => {
            const kept = body === null ? undefined : JSON.parse(body) as { text: string; attachments: ThreadAttachment[] };
            const onLedger = record.attachments ?? [];
            const attachmentsMatch = kept !== undefined && canonicalJson(kept.attachments.map(({ sha256: digest, size, mediaType }) => ({ sha256: digest, size, mediaType }))) === canonicalJson(onLedger);
            return {
                sequence: record.sequence, author: record.author, at: record.at, transactionId: record.transactionId, messageHash: record.messageHash,
                ...(kept ? { text: kept.text } : {}),
                attachments: kept?.attachments ?? onLedger.map((digest) => ({ ...digest, name: digest.sha256 })),
                verified: body !== null && sha256(body) === record.messageHash && attachmentsMatch,
                unread: record.sequence > readThrough,
            };
        });
        const complete = messages.length === messageCount && messages.every((message, index) => message.sequence === index + 1 && message.verified);
        return { thread: name, parties, messageCount, complete, readThrough, messages };
    }

    private async readThrough(principal: Principal, thread: string): Promise<number> {
        const { rows: [row] } = await this.services.pool.query<{ read_through: number }>(
            'SELECT read_through FROM thread_reads WHERE thread = $1::text AND reader = $2::text', [thread, ownerOf(principal)]);
        return row?.read_through ?? 0;
    }

    /** Marks the thread read through a message (never back); checks the principal may read it unless `checked`. */
    async markRead(principal: Principal, thread: ThreadRef, through: number, check = true): Promise<number> {
        if (check) {
            const { messageCount } = await this.head(principal, thread);
            if (through > messageCount) {
                throw new Problem('INVALID_ARGUMENT', `through must be at most ${messageCount}, the thread's length`, 'through');
            }
        }
        const { rows: [row] } = await this.services.pool.query<{ read_through: number }>(
            `INSERT INTO thread_reads (thread, reader, read_through) VALUES ($1::text, $2::text, $3::int)
             ON CONFLICT (thread, reader) DO UPDATE SET read_through = GREATEST(thread_reads.read_through, EXCLUDED.read_through)
             RETURNING read_through`, [threadName(thread), ownerOf(principal), through]);
        return row?.read_through ?? through;
    }

    /** An attachment of a message of a thread the principal may read. */
    async attachment(principal: Principal, thread: ThreadRef, sequence: number, digest: string): Promise<{ bytes: Buffer; mediaType: string; name: string }> {
        const view = await this.read(principal, thread);
        const attached = view.messages.find((message) => message.sequence === sequence)?.attachments.find((candidate) => candidate.sha256 === digest);
        if (!attached) {
            throw new Problem('NOT_FOUND', `message ${sequence} of ${view.thread} has no attachment ${digest}`, 'sha256');
        }
        const { rows: [row] } = await this.services.pool.query<{ bytes: Buffer; media_type: string }>('SELECT bytes, media_type FROM attachments WHERE sha256 = $1::text', [digest]);
        if (!row) {
            throw new Problem('NOT_FOUND', `the hub does not hold attachment ${digest}`, 'sha256');
        }
        return { bytes: row.bytes, mediaType: row.media_type, name: attached.name };
    }

    /** The threads with messages the principal has not read: its party's cases and documents. */
    async unread(principal: Principal): Promise<{ thread: string; messageCount: number; readThrough: number }[]> {
        const { rows } = await this.services.pool.query<{ thread: string; message_count: number; read_through: number }>(
            `WITH threads AS (
                SELECT 'case/' || c.case_id AS thread, (c.record->>'messageCount')::int AS message_count FROM cases c WHERE $1::text = ANY (c.parties)
                UNION ALL
                SELECT 'document/' || m.type || '/' || m.number, max(m.sequence) FROM document_messages m WHERE $1::text = ANY (m.parties) GROUP BY m.type, m.number
             )
             SELECT t.thread, t.message_count, COALESCE(r.read_through, 0) AS read_through
               FROM threads t LEFT JOIN thread_reads r ON r.thread = t.thread AND r.reader = $2::text
              WHERE t.message_count > COALESCE(r.read_through, 0)
              ORDER BY t.thread LIMIT 500`, [partyOf(principal), ownerOf(principal)]);
        return rows.map((row) => ({ thread: row.thread, messageCount: row.message_count, readThrough: row.read_through }));
    }
}
