import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { escapeUnstorable } from '@counterfoil/chaincode';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { LedgerHistory } from '../../network/ledger';
import type { ReplayProgress } from '../../network/audit';
import type { Migration } from '../../network/postgres';
import type { Principal } from '../auth/principal';
import { Problem } from '../http/problem';
import type { RouteContext, RouteSpec } from '../openapi/api';
import { PARAMETERS } from '../routes/parameters';
import type { EntityRef } from './entities';
import type { ConsensusSource } from '../../network/audit/consensus';
import { type AuditReport, auditLedger, auditReportPdf, entityAsOf } from './report';

export const auditSchema: Migration[] = [{
    id: 1,
    name: 'audit',
    sql: `
-- Replays auditors asked the hub for, with their reports (kept, so two auditors can compare).
CREATE TABLE audit_replays (
    id           text PRIMARY KEY,
    requested_by text NOT NULL,
    to_block     bigint,
    as_of        timestamptz,
    status       text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    report       jsonb,
    error        text
);
CREATE INDEX audit_replays_started ON audit_replays (started_at DESC);
`,
}, {
    id: 2,
    name: 'reports kept as JSON text',
    // A report names what it found as it found it: a tampered key may hold characters jsonb
    // refuses (\u0000), which JSON text carries as plain escapes.
    sql: 'ALTER TABLE audit_replays ALTER COLUMN report TYPE text USING report::text;',
}];

interface ReplayRow {
    id: string; requested_by: string; to_block: string | null; as_of: Date | null; status: string;
    started_at: Date; finished_at: Date | null; report: string | null; error: string | null;
}

/**
 * Runs auditors' replays one at a time in the hub's process, keeps each report in PostgreSQL, and
 * tells listeners how far each has got.
 */
export class AuditService {
    private readonly progress = new Map<string, ReplayProgress>();
    private readonly events = new EventEmitter();
    private current?: string;

    constructor(private readonly store: LedgerHistory, private readonly pool: Pool, private readonly logger: Logger, private readonly consensus?: ConsensusSource) {
        this.events.setMaxListeners(0);
    }

    /** A replay left RUNNING by a hub that stopped will not finish. */
    async recover(): Promise<void> {
        await this.pool.query("UPDATE audit_replays SET status = 'INTERRUPTED', finished_at = now() WHERE status = 'RUNNING'");
    }

    async start(principal: Principal, options: { toBlock?: number; asOf?: Date }): Promise<string> {
        if (this.current) {
            throw new Problem('FAILED_PRECONDITION', `replay ${this.current} is still running; one runs at a time`, 'replay');
        }
        const id = randomUUID();
        this.current = id;
        await this.pool.query('INSERT INTO audit_replays (id, requested_by, to_block, as_of, status) VALUES ($1::text, $2::text, $3::bigint, $4::timestamptz, $5::text)',
            [id, `${principal.subject}@${principal.org}`, options.toBlock ?? null, options.asOf ?? null, 'RUNNING']).catch((error: unknown) => {
            this.current = undefined;
            throw error;
        });
        void this.run(id, options).finally(() => {
            this.current = undefined;
            this.progress.delete(id);
        });
        return id;
    }

    /** Replays, then records how it ended: whatever happens, the replay does not stay RUNNING. */
    private async run(id: string, options: { toBlock?: number; asOf?: Date }): Promise<void> {
        let report: AuditReport;
        try {
            report = await auditLedger(this.store, this.pool, {
                ...options, consensus: this.consensus,
                onProgress: (progress) => {
                    this.progress.set(id, progress);
                    this.events.emit(id, 'progress', progress);
                },
            });
            await this.pool.query("UPDATE audit_replays SET status = 'DONE', finished_at = now(), report = $2::text WHERE id = $1::text", [id, JSON.stringify(report)]);
        } catch (error) {
            this.logger.error({ err: error, replay: id }, 'audit replay failed');
            const message = (error as Error).message;
            await this.pool.query("UPDATE audit_replays SET status = 'FAILED', finished_at = now(), error = $2::text WHERE id = $1::text", [id, escapeUnstorable(message)])
                .catch((failure: unknown) => this.logger.error({ err: failure, replay: id }, 'could not record the end of an audit replay'));
            this.events.emit(id, 'failed', { error: message });
            return;
        }
        this.events.emit(id, 'done', { verdict: report.verdict, lastBlockHash: report.lastBlockHash });
    }

    async find(id: string): Promise<Record<string, unknown> | undefined> {
        const result = await this.pool.query<ReplayRow>('SELECT * FROM audit_replays WHERE id = $1::text', [id]);
        const row = result.rows[0];
        return row && this.describe(row);
    }

    async list(): Promise<Record<string, unknown>[]> {
        const result = await this.pool.query<ReplayRow>('SELECT id, requested_by, to_block, as_of, status, started_at, finished_at, NULL AS report, error FROM audit_replays ORDER BY started_at DESC LIMIT 50');
        return result.rows.map((row) => this.describe(row));
    }

    async report(id: string): Promise<AuditReport | undefined> {
        const result = await this.pool.query<{ report: string | null }>('SELECT report FROM audit_replays WHERE id = $1::text', [id]);
        const report = result.rows[0]?.report;
        return report ? JSON.parse(report) as AuditReport : undefined;
    }

    /** Calls `listener` with each progress report, and once with the end; returns the unsubscribe function. */
    follow(id: string, listener: (event: string, data: unknown) => void): () => void {
        const handler = (event: string, data: unknown): void => listener(event, data);
        this.events.on(id, handler);
        return () => this.events.off(id, handler);
    }

    private describe(row: ReplayRow): Record<string, unknown> {
        return {
            id: row.id, requestedBy: row.requested_by, status: row.status,
            toBlock: row.to_block === null ? null : Number(row.to_block), asOf: row.as_of?.toISOString() ?? null,
            startedAt: row.started_at.toISOString(), finishedAt: row.finished_at?.toISOString() ?? null,
            progress: this.progress.get(row.id) ?? null,
            ...(row.report ? { report: JSON.parse(row.report) as AuditReport } : {}), ...(row.error ? { error: row.error } : {}),
        };
    }
}

function requireAuditor(principal: Principal): void {
    if (principal.role !== 'auditor') {
        throw new Problem('FORBIDDEN', 'replays and point-in-time reads are for auditors', 'authorization');
    }
}

const POINT = {
    toBlock: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'as of this block (inclusive)' },
    asOf: { ...PARAMETERS.dateTime, description: 'as of this time: the blocks whose transactions were all proposed by then' },
};

function pointOf(query: Record<string, string | undefined>): { toBlock?: number; asOf?: Date } {
    if (query.toBlock !== undefined && query.asOf !== undefined) {
        throw new Problem('INVALID_ARGUMENT', 'give toBlock or asOf, not both', 'asOf');
    }
    return {
        ...(query.toBlock !== undefined ? { toBlock: Number(query.toBlock) } : {}),
        ...(query.asOf !== undefined ? { asOf: new Date(query.asOf) } : {}),
    };
}

const ENTITY = {
    type: 'object', additionalProperties: false, required: ['asOfBlock', 'asOfTime', 'lastBlockHash', 'state', 'history'],
    properties: {
        asOfBlock: { type: 'integer' }, asOfTime: { oneOf: [{ type: 'string' }, { type: 'null' }] }, lastBlockHash: { type: 'string' },
        state: { oneOf: [{ type: 'object' }, { type: 'null' }], description: 'the record then (null: it did not exist yet); a permit with its balance, a case with its messages' },
        history: {
            type: 'array', items: {
                type: 'object', required: ['blockNumber', 'txIndex', 'transactionId', 'timestamp', 'mspId', 'creator', 'call', 'writes'],
                properties: {
                    blockNumber: { type: 'integer' }, txIndex: { type: 'integer' }, transactionId: { type: 'string' }, timestamp: { type: 'string' }, mspId: { type: 'string' },
                    creator: { type: 'string', description: 'the subject of the creator\'s certificate' }, call: { type: 'string', description: 'contract:transaction' },
                    writes: {
                        type: 'array', items: {
                            type: 'object', required: ['key', 'isDelete'],
                            properties: { key: { type: 'array', items: { type: 'string' } }, isDelete: { type: 'boolean' }, value: { type: 'string' } },
                        },
                    },
                },
            },
        },
    },
};

const REPLAY = {
    type: 'object', required: ['id', 'requestedBy', 'status', 'toBlock', 'asOf', 'startedAt', 'finishedAt', 'progress'],
    properties: {
        id: { type: 'string' }, requestedBy: { type: 'string' }, status: { type: 'string', enum: ['RUNNING', 'DONE', 'FAILED', 'INTERRUPTED'] },
        toBlock: { oneOf: [{ type: 'integer' }, { type: 'null' }] }, asOf: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        startedAt: { type: 'string' }, finishedAt: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        progress: { oneOf: [{ type: 'object' }, { type: 'null' }] }, report: { type: 'object' }, error: { type: 'string' },
    },
};

/** The auditor's API: replays with their progress and reports, and any record as of a block or a time, with its history. */
export function auditRoutes(audits: AuditService, store: LedgerHistory): RouteSpec[] {
    const entityRoute = (path: string, params: RouteSpec['params'], summary: string, ref: (params: Record<string, string>) => EntityRef): RouteSpec => ({
        method: 'get', path, tag: 'Audit', params, query: POINT, summary,
        responses: { 200: { description: 'The record as of that point, and every change to it up to then', schema: ENTITY } },
        handler: async ({ principal, params: values, query }) => {
            requireAuditor(principal);
            return { status: 200, body: await entityAsOf(store, ref(values as Record<string, string>), pointOf(query)) };
        },
    });
    const replayOf = async (context: RouteContext): Promise<Record<string, unknown>> => {
        requireAuditor(context.principal);
        const found = await audits.find(context.params.id as string);
        if (!found) {
            throw new Problem('NOT_FOUND', `no replay ${context.params.id}`, 'id');
        }
        return found;
    };
    const id = { id: { type: 'string', format: 'uuid' } };
    return [
        {
            method: 'post', path: '/v1/audit/replays', tag: 'Audit', body: 'AuditReplayRequest',
            summary: 'Replay the ledger from block 0 and check it (auditors): on a network every validator commit and every block executed again; hash chain, signatures, validation codes, world state, query tables',
            responses: { 202: { description: 'The replay, started; follow it at its progress stream', schema: REPLAY } },
            handler: async ({ principal, body }) => {
                requireAuditor(principal);
                const request = body as { toBlock?: number; asOf?: string };
                if (request.toBlock !== undefined && request.asOf !== undefined) {
                    throw new Problem('INVALID_ARGUMENT', 'give toBlock or asOf, not both', 'asOf');
                }
                const started = await audits.start(principal, { toBlock: request.toBlock, asOf: request.asOf === undefined ? undefined : new Date(request.asOf) });
                return { status: 202, body: await audits.find(started) as Record<string, unknown>, headers: { Location: `/v1/audit/replays/${started}` } };
            },
        },
        {
            method: 'get', path: '/v1/audit/replays', tag: 'Audit', summary: 'Recent replays, newest first (without their reports)',
            responses: { 200: { description: 'Replays', schema: { type: 'array', items: REPLAY } } },
            handler: async ({ principal }) => {
                requireAuditor(principal);
                return { status: 200, body: await audits.list() };
            },
        },
        {
            method: 'get', path: '/v1/audit/replays/{id}', tag: 'Audit', params: id, summary: 'A replay: its progress while it runs, its report (JSON) when done',
            responses: { 200: { description: 'The replay', schema: REPLAY } },
            handler: async (context) => ({ status: 200, body: await replayOf(context) }),
        },
        {
            method: 'get', path: '/v1/audit/replays/{id}/progress', tag: 'Audit', params: id,
            summary: 'Server-sent events of a replay: progress (block, height, transactions), then done or failed',
            responses: { 200: { description: 'An event stream', contentType: 'text/event-stream', schema: { type: 'string' } } },
            handler: async (context) => {
                const replay = await replayOf(context);
                const { response, request } = context;
                response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
                const send = (event: string, data: unknown): void => {
                    response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
                };
                if (replay.status !== 'RUNNING') {
                    send(replay.status === 'DONE' ? 'done' : 'failed', { status: replay.status });
                    response.end();
                    return { handled: true };
                }
                const unsubscribe = audits.follow(replay.id as string, (event, data) => {
                    send(event, data);
                    if (event !== 'progress') {
                        unsubscribe();
                        response.end();
                    }
                });
                if (replay.progress) {
                    send('progress', replay.progress);
                }
                request.on('close', unsubscribe);
                // It may have ended between reading it and following it.
                const now = await audits.find(replay.id as string);
                if (now && now.status !== 'RUNNING' && !response.writableEnded) {
                    unsubscribe();
                    send(now.status === 'DONE' ? 'done' : 'failed', { status: now.status });
                    response.end();
                }
                return { handled: true };
            },
        },
        {
            method: 'get', path: '/v1/audit/replays/{id}/report.pdf', tag: 'Audit', params: id, summary: 'A finished replay\'s report as a PDF',
            responses: { 200: { description: 'The report', contentType: 'application/pdf', schema: { type: 'string', format: 'binary' } } },
            handler: async (context) => {
                const replay = await replayOf(context);
                const report = await audits.report(replay.id as string);
                if (!report) {
                    throw new Problem('FAILED_PRECONDITION', `replay ${String(replay.id)} is ${String(replay.status)}: it has no report`, 'id');
                }
                context.response.status(200).type('application/pdf').setHeader('Content-Disposition', `attachment; filename="audit-${String(replay.id)}.pdf"`);
                context.response.end(Buffer.from(await auditReportPdf(report)));
                return { handled: true };
            },
        },
        entityRoute('/v1/audit/documents/{type}/{number}', { type: PARAMETERS.documentType, number: PARAMETERS.documentNumber },
            'A document (a permit with its balance and uses) as of a block or a time, and its history', (values) => ({ kind: 'document', type: values.type as string, number: values.number as string })),
        entityRoute('/v1/audit/handoffs/{sender}/{messageId}', { sender: PARAMETERS.agency, messageId: PARAMETERS.messageId },
            'A handoff as of a block or a time, and its history', (values) => ({ kind: 'handoff', sender: values.sender as string, messageId: values.messageId as string })),
        entityRoute('/v1/audit/cases/{id}', { id: PARAMETERS.caseId },
            'A case with its messages as of a block or a time, and its history', (values) => ({ kind: 'case', caseId: values.id as string })),
        entityRoute('/v1/audit/verifications/{declaration}/{permit}', { declaration: PARAMETERS.declaration, permit: PARAMETERS.documentNumber },
            'A permit verification as of a block or a time, and its history', (values) => ({ kind: 'verification', declarationNumber: values.declaration as string, permitNumber: values.permit as string })),
    ];
}
