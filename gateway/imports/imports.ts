import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AGENCIES } from '@counterfoil/chaincode';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { EndorseError, type SigningIdentity, submitRetryingConflicts } from '../../network/ledger';
import { inTransaction, type Migration } from '../../network/postgres';
import { type Principal, seesEverything } from '../auth/principal';
import type { Cell, Language } from '../exports/tables';
import type { RowQuery } from '../exports/export';
import { Problem } from '../http/problem';
import { Wakeup } from '../wakeup';
import { decodeCursor, encodeCursor } from '../queries/cursor';
import type { Services } from '../services';
import { DocumentAssembler, type ImportedDocument, ImportLayout, type ImportProblem, locate } from './layout';
import { checkWorkbookArchive, type CSV_CHARSETS, csvSheet, SheetError, type SheetRow, xlsxSheet } from './sheets';

export const importSchema: Migration[] = [{
    id: 1,
    name: 'imports',
    sql: `
-- Files of documents agencies import: checked row by row, then (or at once) issued on the ledger.
CREATE TABLE imports (
    id            text PRIMARY KEY,
    organisation  text NOT NULL,
    principal     jsonb NOT NULL,
    file_name     text,
    format        text NOT NULL,
    file_bytes    bigint NOT NULL,
    file_sha256   text NOT NULL,
    headings      jsonb NOT NULL,
    time_zone     text NOT NULL,
    mode          text NOT NULL,
    status        text NOT NULL,
    rows_read     bigint NOT NULL DEFAULT 0,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX imports_newest ON imports (created_at DESC, id DESC);
CREATE INDEX imports_waiting ON imports (created_at, id) WHERE status IN ('CHECKING', 'SUBMITTING');

-- Each document a file's rows make, with the Issue request and content they make and what became of it.
CREATE TABLE import_documents (
    import_id      text NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq            integer NOT NULL,
    rows           jsonb NOT NULL,
    document_key   text,
    type           text,
    number         text,
    request        text,
    content        text,
    result         text NOT NULL,
    problems       jsonb NOT NULL,
    transaction_id text,
    PRIMARY KEY (import_id, seq),
    UNIQUE (import_id, document_key)
);
CREATE INDEX import_documents_pending ON import_documents (import_id, seq) WHERE result = 'PENDING';
`,
}];

export const IMPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
export const IMPORT_MODES = ['check', 'submit'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];
/** READING the file; CHECKING or SUBMITTING its documents; DONE; FAILED (the file could not be read); INTERRUPTED (the hub stopped while reading it). */
export type ImportStatus = 'READING' | 'CHECKING' | 'SUBMITTING' | 'DONE' | 'FAILED' | 'INTERRUPTED';
/**
 * What became of a document: PENDING (not yet looked at), INVALID (a row breaks a rule), VALID
 * (a check found it would be issued), CREATED (issued by this import), UNCHANGED (the same
 * document is already on the ledger), CONFLICT (a different document has its number).
 */
export const DOCUMENT_RESULTS = ['PENDING', 'INVALID', 'VALID', 'CREATED', 'UNCHANGED', 'CONFLICT'] as const;
export type DocumentResult = (typeof DOCUMENT_RESULTS)[number];

export interface ImportLimits {
    /** The largest file an import takes. */
    readonly maxBytes: number;
    /** The most rows (after the headings) an import reads. */
    readonly maxRows: number;
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = { maxBytes: 50 * 1024 * 1024, maxRows: 200_000 };

export interface ImportView {
    readonly id: string;
    readonly fileName?: string;
    readonly format: ImportFormat;
    readonly fileBytes: number;
    readonly fileSha256: string;
    readonly mode: ImportMode;
    readonly status: ImportStatus;
    readonly organisation: string;
    readonly requestedBy: string;
    readonly timeZone: string;
    readonly rows: number;
    readonly documents: number;
    /** Documents no longer PENDING. */
    readonly processed: number;
    readonly results: Readonly<Record<DocumentResult, number>>;
    readonly error?: string;
    readonly createdAt: string;
    readonly finishedAt?: string;
}

export interface Upload {
    readonly format: ImportFormat;
    readonly mode: ImportMode;
    readonly charset: (typeof CSV_CHARSETS)[number];
    readonly timeZone: string;
    readonly fileName?: string;
    readonly declaredBytes?: number;
}

interface ImportRow {
    id: string; organisation: string; principal: Principal; file_name: string | null; format: ImportFormat; file_bytes: string; file_sha256: string;
    headings: string[]; time_zone: string; mode: ImportMode; status: ImportStatus; rows_read: string; error: string | null; created_at: Date; finished_at: Date | null;
}

interface PendingDocument {
    seq: number; rows: number[]; type: string; number: string; request: string; content: string;
}

interface Outcome {
    readonly seq: number;
    readonly result: DocumentResult;
    readonly problems: readonly ImportProblem[];
    readonly transactionId?: string;
}

/** Documents stored, and looked at on the ledger, a batch at a time. */
const STORE_BATCH = 500;
const SETTLE_BATCH = 100;
/** Documents of one import in flight on the ledger at once: enough to fill the ledger's blocks. */
const IN_FLIGHT = 8;
const WRITER_ROLES: readonly string[] = ['operator', 'admin'];

const RESULT_WORDS: Readonly<Record<DocumentResult, Record<Language, string>>> = {
    PENDING: { en: 'pending', zh: '待处理' },
    INVALID: { en: 'invalid', zh: '有误' },
    VALID: { en: 'valid (would be issued)', zh: '可导入' },
    CREATED: { en: 'issued', zh: '已签发' },
    UNCHANGED: { en: 'already on the ledger, unchanged', zh: '账本已有，未变' },
    CONFLICT: { en: 'number taken by a different document', zh: '编号已被其他内容占用' },
};

/** The per-row result file's columns. */
export const RESULT_COLUMNS = [
    { en: 'Row', zh: '行号' }, { en: 'Type', zh: '单证类型' }, { en: 'Number', zh: '编号' }, { en: 'Result', zh: '结果' },
    { en: 'Column', zh: '列' }, { en: 'Problem', zh: '问题' }, { en: 'Ledger transaction', zh: '账本交易' },
] as const;

/** Whether a principal may upload documents: an agency's operators and administrators, who issue them. */
function requireImporter(principal: Principal): void {
    if (principal.uscc || !(AGENCIES as readonly string[]).includes(principal.org) || !WRITER_ROLES.includes(principal.role)) {
        throw new Problem('FORBIDDEN', 'imports issue documents: only an agency\'s operators and administrators may import', 'authorization');
    }
}

function view(row: ImportRow, counts: ReadonlyMap<string, number>): ImportView {
    const results = Object.fromEntries(DOCUMENT_RESULTS.map((result) => [result, counts.get(result) ?? 0])) as Record<DocumentResult, number>;
    const documents = Object.values(results).reduce((sum, count) => sum + count, 0);
    return {
        id: row.id, ...(row.file_name === null ? {} : { fileName: row.file_name }), format: row.format, fileBytes: Number(row.file_bytes), fileSha256: row.file_sha256,
        mode: row.mode, status: row.status, organisation: row.organisation, requestedBy: `${row.principal.subject}@${row.principal.org}`, timeZone: row.time_zone,
        rows: Number(row.rows_read), documents, processed: documents - results.PENDING, results,
        ...(row.error === null ? {} : { error: row.error }), createdAt: row.created_at.toISOString(), ...(row.finished_at ? { finishedAt: row.finished_at.toISOString() } : {}),
    };
}

/** The file's bytes, written to a private folder as they arrive, with their digest; refuses a file over the limit. */
async function spool(body: Readable, path: string, maxBytes: number): Promise<{ bytes: number; sha256: string }> {
    const hash = createHash('sha256');
    let bytes = 0;
    const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
            bytes += chunk.length;
            if (bytes > maxBytes) {
                done(new Problem('PAYLOAD_TOO_LARGE', `an import file may be at most ${maxBytes} bytes`, 'body'));
                return;
            }
            hash.update(chunk);
            done(null, chunk);
        },
    });
    await pipeline(body, counter, createWriteStream(path, { mode: 0o600 }));
    return { bytes, sha256: hash.digest('hex') };
}

/**
 * Bulk imports of documents. An upload is spooled to a private temporary file, its heading row
 * checked at once, and its rows read in the background into `import_documents`, a document per
 * group of rows. A worker then looks at each stored document on the ledger, one import at a
 * time: a check only simulates the Issue; a submission issues what is new, and leaves what is
 * already on the ledger untouched, so a file submitted twice changes nothing the second time.
 * A hub that stops mid-submission resumes with the documents still PENDING.
 */
export class ImportService {
    private readonly reading = new Set<Promise<void>>();
    private readonly wakeup = new Wakeup();
    private worker?: Promise<void>;
    private stopping = false;

    constructor(private readonly services: Services, private readonly logger: Logger, private readonly limits: ImportLimits = DEFAULT_IMPORT_LIMITS) {}

    get pool(): Pool {
        return this.services.pool;
    }

    /** Imports whose file was being read when the hub stopped cannot go on: the file is gone. */
    async recover(): Promise<void> {
        await this.pool.query("UPDATE imports SET status = 'INTERRUPTED', finished_at = now(), error = 'the hub stopped while the file was being read: upload it again' WHERE status = 'READING'");
    }

    start(): void {
        this.worker ??= this.work();
    }

    async stop(): Promise<void> {
        this.stopping = true;
        this.wakeup.wake();
        await Promise.all([...this.reading]);
        await this.worker;
    }

    /** Takes an upload: answers once the file is stored and its headings read; the rows are read after. */
    async receive(principal: Principal, body: Readable, upload: Upload): Promise<ImportView> {
        requireImporter(principal);
        if (upload.declaredBytes !== undefined && upload.declaredBytes > this.limits.maxBytes) {
            throw new Problem('PAYLOAD_TOO_LARGE', `an import file may be at most ${this.limits.maxBytes} bytes`, 'body');
        }
        const folder = await mkdtemp(join(tmpdir(), 'counterfoil-import-'));
        const discard = (): Promise<void> => rm(folder, { recursive: true, force: true });
        let rows: AsyncIterator<SheetRow>;
        let layout: ImportLayout;
        let file: { bytes: number; sha256: string };
        try {
            const path = join(folder, `upload.${upload.format}`);
            file = await spool(body, path, this.limits.maxBytes);
            if (file.bytes === 0) {
                throw new Problem('INVALID_ARGUMENT', 'the file is empty', 'body');
            }
            if (upload.format === 'xlsx') {
                await checkWorkbookArchive(path, { maxUnpackedBytes: 20 * this.limits.maxBytes, maxRatio: 100 });
            }
            rows = (upload.format === 'csv' ? csvSheet(path, upload.charset) : xlsxSheet(path))[Symbol.asyncIterator]();
            const headings = await rows.next();
            if (headings.done) {
                throw new Problem('INVALID_ARGUMENT', 'the file has no heading row', 'body');
            }
            layout = ImportLayout.read(headings.value.cells);
        } catch (error) {
            await discard();
            if (error instanceof SheetError) {
                throw new Problem('INVALID_ARGUMENT', `${error.row === undefined ? '' : `row ${error.row}: `}${error.message}`, 'body');
            }
            throw error;
        }
        const id = randomUUID();
        const { rows: [row] } = await this.pool.query<ImportRow>(
            `INSERT INTO imports (id, organisation, principal, file_name, format, file_bytes, file_sha256, headings, time_zone, mode, status)
             VALUES ($1::text, $2::text, $3::jsonb, $4::text, $5::text, $6::bigint, $7::text, $8::jsonb, $9::text, $10::text, 'READING') RETURNING *`,
            [id, principal.org, JSON.stringify(principal), upload.fileName ?? null, upload.format, file.bytes, file.sha256, JSON.stringify(layout.headings), upload.timeZone, upload.mode],
        ).catch(async (error: unknown) => {
            await discard();
            throw error;
        });
        const reading = this.readRows(id, rows, layout, upload).finally(async () => {
            this.reading.delete(reading);
            await discard();
        });
        this.reading.add(reading);
        return view(row as ImportRow, new Map());
    }

    /** Reads the rows after the headings into documents, stored a batch at a time. */
    private async readRows(id: string, rows: AsyncIterator<SheetRow>, layout: ImportLayout, upload: Upload): Promise<void> {
        const assembler = new DocumentAssembler(layout, { zone: upload.timeZone });
        let batch: ImportedDocument[] = [];
        let seq = 0;
        let count = 0;
        const flush = async (): Promise<void> => {
            await this.storeDocuments(id, seq, batch, count);
            seq += batch.length;
            batch = [];
        };
        try {
            for (let next = await rows.next(); !next.done; next = await rows.next()) {
                if (this.stopping) {
                    return; // left READING: the next start marks it INTERRUPTED
                }
                if (++count > this.limits.maxRows) {
                    throw new SheetError(`the file has more than ${this.limits.maxRows} rows; split it`, next.value.row);
                }
                batch.push(...assembler.add(next.value.row, next.value.cells));
                if (batch.length >= STORE_BATCH) {
                    await flush();
                }
            }
            batch.push(...assembler.end());
            await flush();
            await this.pool.query('UPDATE imports SET status = $2::text WHERE id = $1::text', [id, upload.mode === 'check' ? 'CHECKING' : 'SUBMITTING']);
            this.wakeup.wake();
        } catch (error) {
            const message = error instanceof SheetError
                ? `${error.row === undefined ? '' : `row ${error.row}: `}${error.message}`
                : `the file could not be read: ${(error as Error).message}`;
            if (!(error instanceof SheetError)) {
                this.logger.error({ err: error, import: id }, 'import failed while reading');
            }
            await this.pool.query("UPDATE imports SET status = 'FAILED', error = $2::text, finished_at = now() WHERE id = $1::text", [id, message])
                .catch((failure: unknown) => this.logger.error({ err: failure, import: id }, 'import could not be marked FAILED'));
            await rows.return?.().catch(() => undefined);
        }
    }

    /**
     * Stores documents in file order. A document whose type and number an earlier group of rows
     * of the same file already has is stored as INVALID, naming those rows.
     */
    private async storeDocuments(id: string, firstSeq: number, documents: readonly ImportedDocument[], rowsRead: number): Promise<void> {
        const keyOf = (document: ImportedDocument): string | null => (document.type && document.number ? `${document.type}/${document.number}` : null);
        const columns = (list: readonly (ImportedDocument & { seq: number; key: string | null; extra?: ImportProblem })[]): unknown[] => [
            id, list.map((document) => document.seq), list.map((document) => JSON.stringify(document.rows)), list.map((document) => document.key),
            list.map((document) => document.type ?? null), list.map((document) => document.number ?? null),
            list.map((document) => (document.request && !document.extra ? JSON.stringify(document.request) : null)),
            list.map((document) => (document.request && !document.extra ? document.content ?? null : null)),
            list.map((document) => (document.problems.length > 0 || document.extra ? 'INVALID' : 'PENDING')),
            list.map((document) => JSON.stringify([...document.problems, ...(document.extra ? [document.extra] : [])])),
        ];
        const insert = `INSERT INTO import_documents (import_id, seq, rows, document_key, type, number, request, content, result, problems)
            SELECT $1::text, u.seq, u.rows::jsonb, u.key, u.type, u.number, u.request, u.content, u.result, u.problems::jsonb
              FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                AS u(seq, rows, key, type, number, request, content, result, problems)
            ON CONFLICT (import_id, document_key) DO NOTHING RETURNING seq`;
        const numbered = documents.map((document, index) => ({ ...document, seq: firstSeq + index, key: keyOf(document) }));
        await inTransaction(this.pool, async (client) => {
            const inserted = new Set((await client.query<{ seq: number }>(insert, columns(numbered))).rows.map((row) => row.seq));
            const repeated = numbered.filter((document) => !inserted.has(document.seq));
            if (repeated.length > 0) {
                const { rows: earlier } = await client.query<{ document_key: string; rows: number[] }>(
                    'SELECT document_key, rows FROM import_documents WHERE import_id = $1::text AND document_key = ANY($2::text[])', [id, repeated.map((document) => document.key)]);
                const rowsOf = new Map(earlier.map((row) => [row.document_key, row.rows]));
                const layout = { headingOf: () => 'number' };
                await client.query(insert, columns(repeated.map((document) => {
                    const first = rowsOf.get(document.key as string) ?? [];
                    const span = first.length > 1 ? `rows ${first[0]}–${first.at(-1)}` : `row ${first[0]}`;
                    return {
                        ...document, key: null,
                        extra: { ...locate('number', document.rows, layout), rule: `${document.type} ${document.number} is already on ${span} of this file: a document's rows follow one another` },
                    };
                })));
            }
            await client.query('UPDATE imports SET rows_read = $2::bigint WHERE id = $1::text', [id, rowsRead]);
        });
    }


    private async find(principal: Principal, id: string): Promise<ImportRow> {
        const { rows: [row] } = await this.pool.query<ImportRow>('SELECT * FROM imports WHERE id = $1::text', [id]);
        // Another organisation's import is answered as absent: its existence is not theirs to learn.
        if (!row || (row.organisation !== principal.org && !seesEverything(principal))) {
            throw new Problem('NOT_FOUND', `no import ${id}`, 'id');
        }
        return row;
    }

    private async counts(ids: readonly string[]): Promise<Map<string, Map<string, number>>> {
        const { rows } = await this.pool.query<{ import_id: string; result: string; count: string }>(
            'SELECT import_id, result, count(*) AS count FROM import_documents WHERE import_id = ANY($1::text[]) GROUP BY import_id, result', [ids]);
        const counts = new Map<string, Map<string, number>>(ids.map((id) => [id, new Map()]));
        for (const row of rows) {
            counts.get(row.import_id)?.set(row.result, Number(row.count));
        }
        return counts;
    }

    async get(principal: Principal, id: string): Promise<ImportView> {
        const row = await this.find(principal, id);
        return view(row, (await this.counts([id])).get(id) ?? new Map());
    }

    /** The imports a principal may see, newest first: its organisation's (every one, for auditors). */
    async list(principal: Principal, cursor: string | undefined, limit: number): Promise<{ items: ImportView[]; nextCursor: string | null }> {
        const after = decodeCursor(cursor, ['time', 'text']);
        const { rows } = await this.pool.query<ImportRow>(
            `SELECT * FROM imports
              WHERE ($1::text IS NULL OR organisation = $1::text)
                AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::text))
              ORDER BY created_at DESC, id DESC LIMIT $4::int`,
            [seesEverything(principal) ? null : principal.org, after?.[0] ?? null, after?.[1] ?? null, limit + 1]);
        const page = rows.slice(0, limit);
        const counts = await this.counts(page.map((row) => row.id));
        const last = page.at(-1);
        return {
            items: page.map((row) => view(row, counts.get(row.id) ?? new Map())),
            nextCursor: rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
        };
    }

    /** Submits the documents a finished check found, as the principal who asks (of the same organisation). */
    async submitChecked(principal: Principal, id: string): Promise<ImportView> {
        requireImporter(principal);
        const row = await this.find(principal, id);
        if (row.mode !== 'check' || row.status !== 'DONE') {
            throw new Problem('FAILED_PRECONDITION', `import ${id} is ${row.mode === 'submit' ? 'a submission already' : `still ${row.status}`}: only a finished check can be submitted`, 'id');
        }
        await inTransaction(this.pool, async (client) => {
            const { rowCount } = await client.query(
                "UPDATE imports SET mode = 'submit', status = 'SUBMITTING', principal = $2::jsonb, finished_at = NULL WHERE id = $1::text AND mode = 'check' AND status = 'DONE'",
                [id, JSON.stringify(principal)]);
            if (rowCount !== 1) {
                throw new Problem('FAILED_PRECONDITION', `import ${id} is being submitted already`, 'id');
            }
            // The ledger may have moved since the check: every document the file could make is looked at again.
            await client.query("UPDATE import_documents SET result = 'PENDING', problems = '[]', transaction_id = NULL WHERE import_id = $1::text AND request IS NOT NULL", [id]);
        });
        this.wakeup.wake();
        return this.get(principal, id);
    }

    /** The per-row results as a table query: each document's rows, with the problems each row has. */
    resultsQuery(id: string, language: Language): RowQuery<{ row: number; type: string | null; number: string | null; result: DocumentResult; columns: string | null; rules: string | null; transaction_id: string | null }> {
        return {
            sql: `SELECT r.row::int AS row, d.type, d.number, d.result, d.transaction_id,
                         (SELECT string_agg(p->>'column', '; ') FROM jsonb_array_elements(d.problems) p WHERE (p->>'row')::int = r.row::int) AS columns,
                         (SELECT string_agg(p->>'rule', '; ') FROM jsonb_array_elements(d.problems) p WHERE (p->>'row')::int = r.row::int) AS rules
                    FROM import_documents d CROSS JOIN LATERAL jsonb_array_elements_text(d.rows) WITH ORDINALITY AS r(row, position)
                   WHERE d.import_id = $1::text
                   ORDER BY d.seq, r.position`,
            values: [id],
            cells: (row): Cell[] => [row.row, row.type, row.number, RESULT_WORDS[row.result][language], row.columns, row.rules, row.transaction_id],
        };
    }

    private async work(): Promise<void> {
        let backoffMs = 0;
        while (!this.stopping) {
            const { rows: [next] } = await this.pool.query<ImportRow>(
                "SELECT * FROM imports WHERE status IN ('CHECKING', 'SUBMITTING') ORDER BY created_at, id LIMIT 1").catch((error: unknown) => {
                this.logger.error({ err: error }, 'imports could not be read');
                return { rows: [] as ImportRow[] };
            });
            if (!next) {
                await this.wakeup.sleep(backoffMs || 60_000);
                continue;
            }
            try {
                await this.settleImport(next);
                backoffMs = 0;
            } catch (error) {
                backoffMs = Math.min(30_000, Math.max(500, backoffMs * 2));
                this.logger.warn({ err: error, import: next.id, retryInMs: backoffMs }, 'import paused: the ledger did not answer; it goes on where it stopped');
                await this.wakeup.sleep(backoffMs);
            }
        }
    }

    /** Looks at an import's PENDING documents on the ledger, a batch at a time, until none is left. */
    private async settleImport(job: ImportRow): Promise<void> {
        const layout = ImportLayout.read(job.headings);
        const identity = await this.services.identities.identityFor(job.principal);
        for (;;) {
            if (this.stopping) {
                return;
            }
            const { rows: pending } = await this.pool.query<PendingDocument>(
                "SELECT seq, rows, type, number, request, content FROM import_documents WHERE import_id = $1::text AND result = 'PENDING' ORDER BY seq LIMIT $2::int",
                [job.id, SETTLE_BATCH]);
            if (pending.length === 0) {
                await this.pool.query("UPDATE imports SET status = 'DONE', finished_at = now() WHERE id = $1::text AND status = $2::text", [job.id, job.status]);
                return;
            }
            const outcomes: Outcome[] = [];
            let failure: unknown;
            let index = 0;
            const lane = async (): Promise<void> => {
                while (failure === undefined && !this.stopping && index < pending.length) {
                    const document = pending[index++] as PendingDocument;
                    try {
                        outcomes.push(await this.settle(job.mode, identity, document, layout));
                    } catch (error) {
                        failure ??= error;
                    }
                }
            };
            await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
            await this.storeOutcomes(job.id, outcomes);
            if (failure !== undefined) {
                throw failure;
            }
        }
    }

    /**
     * One document on the ledger. What the chaincode refuses is the row's problem; anything else
     * (the ledger unavailable) is thrown, and the document stays PENDING.
     */
    private async settle(mode: ImportMode, identity: SigningIdentity, document: PendingDocument, layout: ImportLayout): Promise<Outcome> {
        const { ledger } = this.services;
        const transient = { content: Buffer.from(document.content, 'utf8') };
        const issue = { identity, contract: 'documents', transaction: 'Issue', arguments: [document.request], transient };
        const refused = (error: unknown): Outcome => {
            if (!(error instanceof EndorseError) || error.code === 'UNAVAILABLE' || error.code === 'INTERNAL' || error.code === 'UNAUTHENTICATED') {
                throw error;
            }
            const rule = error.field && error.message.startsWith(`${error.field}: `) ? error.message.slice(error.field.length + 2) : error.message;
            const conflict = error.code === 'CONFLICT' && error.field === 'number';
            return { seq: document.seq, result: conflict ? 'CONFLICT' : 'INVALID', problems: [{ ...locate(error.field, document.rows, layout), rule }] };
        };
        const transactionOf = (result: Uint8Array): string => (JSON.parse(Buffer.from(result).toString('utf8')) as { transactionId: string }).transactionId;
        try {
            const onLedger = await ledger.evaluate({ identity, contract: 'documents', transaction: 'Get', arguments: [JSON.stringify({ type: document.type, number: document.number })] })
                .then(() => true, (error: unknown) => {
                    if (error instanceof EndorseError && error.code === 'NOT_FOUND') {
                        return false;
                    }
                    throw error;
                });
            if (mode === 'check' || onLedger) {
                // Nothing to write: a simulation says whether the Issue would pass, and whether the
                // document on the ledger is this one (it then answers that document).
                const simulated = await ledger.evaluate(issue);
                return onLedger
                    ? { seq: document.seq, result: 'UNCHANGED', problems: [], transactionId: transactionOf(simulated) }
                    : { seq: document.seq, result: 'VALID', problems: [] };
            }
            const committed = await submitRetryingConflicts(ledger, issue, this.services.conflictRetry);
            const transactionId = transactionOf(committed.result);
            return { seq: document.seq, result: transactionId === committed.transactionId ? 'CREATED' : 'UNCHANGED', problems: [], transactionId };
        } catch (error) {
            return refused(error);
        }
    }

    private async storeOutcomes(id: string, outcomes: readonly Outcome[]): Promise<void> {
        if (outcomes.length === 0) {
            return;
        }
        await this.pool.query(
            `UPDATE import_documents d SET result = u.result, problems = u.problems::jsonb, transaction_id = u.transaction_id
               FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS u(seq, result, problems, transaction_id)
              WHERE d.import_id = $1::text AND d.seq = u.seq`,
            [id, outcomes.map((outcome) => outcome.seq), outcomes.map((outcome) => outcome.result),
                outcomes.map((outcome) => JSON.stringify(outcome.problems)), outcomes.map((outcome) => outcome.transactionId ?? null)]);
    }
}
