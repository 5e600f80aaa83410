import { createHash } from 'node:crypto';
import { storableCopy, unstorableIn } from '@counterfoil/chaincode';
import cron, { type ScheduledTask } from 'node-cron';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { LedgerError } from '../network/ledger';
import type { AdapterConfig } from './config';
import type { Delivery, HandoffItem, InboxEvent, OutboxItem, Transport } from './feed-contract';
import type { LedgerClient } from './ledger-client';
import { inKeyOrder } from './ordered';

export interface AdapterHealth {
    readonly name: string;
    readonly organisation: string;
    readonly mode: string;
    readonly lastAttemptAt: string | null;
    readonly lastSuccessAt: string | null;
    /** Seconds since the last poll that went through, or null before the first. */
    readonly lagSeconds: number | null;
    readonly lastError: string | null;
    readonly consecutiveFailures: number;
    readonly errors: number;
    readonly quarantined: number;
    readonly parked: number;
    /** Files the agency dropped that the adapter had not read when its last run ended (file-drop; null for feeds). */
    readonly waiting: number | null;
}

export interface TickReport {
    readonly recorded: number;
    readonly delivered: number;
    readonly confirmed: number;
    readonly retransmitted: number;
    readonly quarantined: number;
    /** Records waiting for what they name to reach the ledger. */
    readonly parked: number;
}

const BATCH = 200;

type Feed = 'outbox' | 'inbox';
/** A run's report while it is being counted. */
type Report = { -readonly [Key in keyof TickReport]: TickReport[Key] };
/** The handoff a parked record waits for. */
type Parked = { sender: string; messageId: string; recipient: string; subject: string | null };

/** Health of the named adapter, or of every adapter that has registered, wherever it runs. */
export async function adapterHealth(pool: Pool, name?: string): Promise<AdapterHealth[]> {
    const result = await pool.query<{
        adapter: string; organisation: string; mode: string; last_attempt_at: Date | null; last_success_at: Date | null; lag: number | null;
        last_error: string | null; consecutive_failures: number; errors: string; quarantined: string; parked: string; waiting: number | null;
    }>(
        `SELECT h.*, extract(epoch FROM now() - h.last_success_at)::float8 AS lag,
                (SELECT count(*) FROM adapter_quarantine q WHERE q.adapter = h.adapter) AS quarantined,
                (SELECT count(*) FROM adapter_parked p WHERE p.adapter = h.adapter) AS parked
           FROM adapter_health h WHERE $1::text IS NULL OR h.adapter = $1::text ORDER BY h.adapter`, [name ?? null]);
    return result.rows.map((row) => ({
        name: row.adapter, organisation: row.organisation, mode: row.mode,
        lastAttemptAt: row.last_attempt_at?.toISOString() ?? null, lastSuccessAt: row.last_success_at?.toISOString() ?? null,
        lagSeconds: row.lag === null ? null : Math.max(0, Math.floor(row.lag)), lastError: row.last_error,
        consecutiveFailures: row.consecutive_failures, errors: Number(row.errors), quarantined: Number(row.quarantined), parked: Number(row.parked),
        waiting: row.waiting,
    }));
}

/** Why a record was set aside: the ledger's code and rule (`NOT_FOUND: messageId: …`), or what was wrong with it. */
function reasonOf(error: unknown): string {
    return error instanceof LedgerError ? `${error.code}: ${error.message}` : (error as Error).message;
}

/** A refusal that retrying cannot change: the record is quarantined and its batch goes on. */
function isPermanent(error: unknown): error is LedgerError {
    return error instanceof LedgerError && ['INVALID_ARGUMENT', 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'FAILED_PRECONDITION'].includes(error.code);
}

/**
 * One agency system's adapter. Each run: records on the ledger what the agency sent (documents and
 * handoffs, payloads kept for relay), delivers relayed payloads addressed to the agency and records
 * its receipt with the hash of what it stored, records the agency's own receipts (observe mode) and
 * decisions, and retransmits its handoffs that arrived different or not at all (relay mode,
 * bounded). Cursors advance only after the ledger took a batch, and every ledger write is
 * idempotent, so a crash anywhere means at-least-once delivery and exactly-once effect.
 */
export class Adapter {
    private running?: Promise<TickReport>;
    private task?: ScheduledTask;
    /** Whether this adapter may have parked records (checked at the start of each run). */
    private parking = false;

    constructor(
        readonly config: AdapterConfig,
        private readonly transport: Transport,
        private readonly ledger: LedgerClient,
        private readonly pool: Pool,
        private readonly logger: Logger,
    ) {}

    start(): void {
        this.task = cron.schedule(this.config.schedule, async () => {
            await this.run().catch(() => undefined);
        }, { noOverlap: true, name: `adapter-${this.config.name}` });
    }

    async stop(): Promise<void> {
        await this.task?.destroy();
        await this.running?.catch(() => undefined);
    }

    /** One run; a run asked for while one is under way gets that run's report. */
    run(): Promise<TickReport> {
        this.running ??= this.tick().finally(() => {
            this.running = undefined;
        });
        return this.running;
    }

    async health(): Promise<AdapterHealth> {
        const [health] = await adapterHealth(this.pool, this.config.name);
        return health as AdapterHealth;
    }

    private async tick(): Promise<TickReport> {
        const attemptedAt = new Date();
        const report = { recorded: 0, delivered: 0, confirmed: 0, retransmitted: 0, quarantined: 0, parked: 0 };
        try {
            this.parking = (await this.pool.query('SELECT 1 FROM adapter_parked WHERE adapter = $1::text LIMIT 1', [this.config.name])).rowCount !== 0;
            if (this.parking) {
                await this.retryParked(report);
            }
            await this.recordOutbox(report);
            if (this.config.mode === 'relay') {
                await this.deliverRelayed(report);
                await this.retransmit(report);
            }
            await this.recordInbox(report);
        } catch (error) {
            this.logger.warn({ err: error, adapter: this.config.name }, 'adapter run failed; it resumes from its cursors');
            await this.pool.query(
                `UPDATE adapter_health SET last_attempt_at = $2::timestamptz, last_error = $3::text,
                        consecutive_failures = consecutive_failures + 1, errors = errors + 1, waiting = $4::integer WHERE adapter = $1::text`,
                [this.config.name, attemptedAt, (error as Error).message, await this.waiting()]).catch(() => undefined); // the database may be what failed
            throw error;
        }
        await this.pool.query(
            'UPDATE adapter_health SET last_attempt_at = $2::timestamptz, last_success_at = now(), last_error = NULL, consecutive_failures = 0, waiting = $3::integer WHERE adapter = $1::text',
            [this.config.name, attemptedAt, await this.waiting()]);
        return report;
    }

    /** What the agency dropped and this adapter has not read, where its transport can tell. */
    private async waiting(): Promise<number | null> {
        return (await this.transport.waiting?.().catch(() => undefined)) ?? null;
    }

    private async recordOutbox(report: Report): Promise<void> {
        await this.drain('outbox', report, (raw) => this.applyOutbox(raw, report));
    }

    private async applyOutbox(raw: unknown, report: Report): Promise<void> {
        await this.record(raw);
        report.recorded++;
    }

    /**
     * Reads a feed from its cursor to its end, page by page. A record the ledger refuses for good,
     * or that breaks the feed contract, is quarantined and the page goes on; anything else stops
     * the run with the cursor where it was, so the page is read again next run.
     */
    private async drain(feed: Feed, report: Report, handle: (raw: unknown) => Promise<void>): Promise<void> {
        for (;;) {
            const after = await this.cursor(feed);
            const page = feed === 'outbox' ? await this.transport.outbox(after, BATCH) : await this.transport.inbox(after, BATCH);
            await inKeyOrder(page.items, feed === 'outbox' ? outboxKeys : inboxKeys, this.config.concurrency, async (raw) => {
                const waitingFor = this.awaitedOnLedger(feed, raw);
                try {
                    const unstorable = unstorableIn(raw);
                    if (unstorable) {
                        // The ledger would refuse it too; found here, it is never parked or retried.
                        throw new MalformedRecord(`${unstorable.field || 'the record'} ${unstorable.rule}`);
                    }
                    if (waitingFor && this.parking && await this.isParked(waitingFor)) {
                        // Behind an earlier record of the same message that is waiting: keep their order.
                        await this.park(feed, raw, waitingFor, 'an earlier record of this message is waiting for the ledger');
                        report.parked++;
                        return;
                    }
                    await handle(raw);
                } catch (error) {
                    if (waitingFor && error instanceof LedgerError && error.code === 'NOT_FOUND') {
                        await this.park(feed, raw, waitingFor, reasonOf(error));
                        report.parked++;
                        return;
                    }
                    if (!isPermanent(error) && !(error instanceof MalformedRecord)) {
                        throw error;
                    }
                    await this.quarantine(feed, raw, reasonOf(error));
                    report.quarantined++;
                }
            });
            if (page.next === after) {
                return; // nothing new in the feed
            }
            await this.advance(feed, page.next);
        }
    }

    private async record(raw: unknown): Promise<void> {
        const item = checkOutboxItem(raw, this.config);
        if (item.kind === 'document') {
            const { kind: _kind, content, ...request } = item;
            await this.ledger.issueDocument(request, Buffer.from(content, 'base64'));
            return;
        }
        if (item.kind === 'verification') {
            const { kind: _kind, ...request } = item;
            // A rejected verdict is a result, not an error: it is on the ledger either way.
            await this.ledger.verify(request);
            return;
        }
        if (item.kind === 'foreign-certificate') {
            // A signature that does not match is a verdict (and a case), not an error.
            await this.ledger.receiveForeignCertificate(Buffer.from(item.xml, 'base64'));
            return;
        }
        let payloadHash = item.payloadHash;
        let size = item.size;
        if (this.config.mode === 'relay') {
            const payload = Buffer.from(item.payload as string, 'base64');
            payloadHash = createHash('sha256').update(payload).digest('hex');
            size = payload.length;
            // Kept before the ledger hears of it, so a recorded handoff always has its payload to relay.
            await this.pool.query(
                `INSERT INTO relay_payloads (sender, message_id, recipient, subject, document_type, document_number, payload, payload_hash)
                 VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::bytea, $8::text) ON CONFLICT (sender, message_id) DO NOTHING`,
                [this.config.organisation, item.messageId, item.recipient, item.subject, item.document.type, item.document.number, payload, payloadHash]);
        }
        await this.ledger.send({ messageId: item.messageId, recipient: item.recipient, subject: item.subject, document: item.document, payloadHash, size });
    }

    /** Relayed payloads addressed to this agency that it has not stored for the current attempt. */
    private async deliverRelayed(report: { delivered: number; confirmed: number }): Promise<void> {
        const pending = await this.pool.query<{ sender: string; message_id: string; subject: string; document_type: string; document_number: string; payload: Buffer; retransmissions: number }>(
            `SELECT r.sender, r.message_id, r.subject, r.document_type, r.document_number, r.payload, (h.record ->> 'retransmissions')::integer AS retransmissions
               FROM relay_payloads r JOIN handoffs h ON h.sender = r.sender AND h.message_id = r.message_id
              WHERE r.recipient = $1::text AND h.status = 'SENT'
                -- not yet stored for the current attempt (-1: never), and not given up on for it
                AND r.delivered_attempt < (h.record ->> 'retransmissions')::integer
                AND r.delivery_attempts < $3::integer * ((h.record ->> 'retransmissions')::integer + 1)
              ORDER BY r.stored_at LIMIT $2::integer`,
            [this.config.organisation, BATCH, this.config.maxDeliveryAttempts]);
        await inKeyOrder(pending.rows, (row) => [`${row.sender}/${row.message_id}`], this.config.concurrency, async (row) => {
            const delivery: Delivery = {
                sender: row.sender, messageId: row.message_id, subject: row.subject,
                document: { type: row.document_type, number: row.document_number }, payload: row.payload.toString('base64'),
            };
            const answer = await this.transport.deliver(delivery);
            if (!answer.stored || !answer.payloadHash) {
                await this.pool.query(
                    `UPDATE relay_payloads SET delivery_attempts = delivery_attempts + 1, last_error = 'the agency did not store it',
                            -- the last try for this attempt: the sender may now retransmit
                            exhausted_attempt = CASE WHEN delivery_attempts + 1 >= $3::integer * ($4::integer + 1) THEN $4::integer ELSE exhausted_attempt END
                      WHERE sender = $1::text AND message_id = $2::text`,
                    [row.sender, row.message_id, this.config.maxDeliveryAttempts, row.retransmissions]);
                return;
            }
            report.delivered++;
            await this.ledger.recordReceipt({ sender: row.sender, messageId: row.message_id, payloadHash: answer.payloadHash });
            await this.pool.query(
                'UPDATE relay_payloads SET delivered_attempt = $3::integer, delivery_attempts = delivery_attempts + 1, last_error = NULL WHERE sender = $1::text AND message_id = $2::text',
                [row.sender, row.message_id, row.retransmissions]);
            report.confirmed++;
        });
    }

    /**
     * Relay mode: retransmits this agency's handoffs that arrived different, or that are past their
     * receipt deadline after the recipient's adapter tried every delivery of the current attempt. A
     * handoff merely waiting for a slow or stopped recipient is not retransmitted: that would spend
     * the retransmissions a damaged delivery may need later; reconciliation makes it a case.
     */
    private async retransmit(report: { retransmitted: number }): Promise<void> {
        const due = await this.pool.query<{ message_id: string; retransmissions: number }>(
            `SELECT h.message_id, (h.record ->> 'retransmissions')::integer AS retransmissions
               FROM handoffs h JOIN relay_payloads r ON r.sender = h.sender AND r.message_id = h.message_id
              WHERE h.sender = $1::text AND (h.record ->> 'retransmissions')::integer < $2::integer
                AND (h.status = 'MISMATCH'
                     OR (h.status = 'SENT' AND h.receipt_deadline < now() AND r.exhausted_attempt >= (h.record ->> 'retransmissions')::integer))
              ORDER BY h.sent_at LIMIT $3::integer`,
            [this.config.organisation, this.config.maxRetransmissions, BATCH]);
        await inKeyOrder(due.rows, (row) => [row.message_id], this.config.concurrency, async (row) => {
            try {
                await this.ledger.retransmit({ sender: this.config.organisation, messageId: row.message_id, attempt: row.retransmissions + 1 });
                report.retransmitted++;
            } catch (error) {
                if (!isPermanent(error)) {
                    throw error;
                }
                this.logger.info({ adapter: this.config.name, messageId: row.message_id, reason: (error as Error).message }, 'no retransmission');
            }
        });
    }

    private async recordInbox(report: Report): Promise<void> {
        await this.drain('inbox', report, (raw) => this.applyInbox(raw, report));
    }

    private async applyInbox(raw: unknown, report: Report): Promise<void> {
        const event = checkInboxEvent(raw);
        if (event.kind === 'RECEIVED') {
            if (this.config.mode === 'observe') {
                await this.ledger.recordReceipt({ sender: event.sender, messageId: event.messageId, payloadHash: event.payloadHash ?? '' });
                report.confirmed++;
            }
            return;
        }
        await this.ledger.acknowledge({
            sender: event.sender, messageId: event.messageId, decision: event.decision ?? '',
            ...(event.reasonCode ? { reasonCode: event.reasonCode } : {}), ...(event.text ? { text: event.text } : {}),
        });
        report.confirmed++;
    }

    /**
     * The handoff a record names, when the ledger may simply not have it yet: a handoff (whose
     * document another agency may not have issued on the ledger yet) or a recipient's receipt or
     * decision (read before the sender's adapter recorded the send). Such a record refused with
     * NOT_FOUND is parked and tried again, not quarantined.
     */
    private awaitedOnLedger(feed: Feed, raw: unknown): Parked | undefined {
        const record = (raw ?? {}) as Record<string, unknown>;
        if (typeof record.messageId !== 'string') {
            return undefined;
        }
        if (feed === 'outbox') {
            return record.kind === 'handoff' && typeof record.recipient === 'string'
                ? { sender: this.config.organisation, messageId: record.messageId, recipient: record.recipient, subject: typeof record.subject === 'string' ? record.subject : null }
                : undefined;
        }
        return typeof record.sender === 'string' ? { sender: record.sender, messageId: record.messageId, recipient: this.config.organisation, subject: null } : undefined;
    }

    private async isParked(key: Parked): Promise<boolean> {
        const found = await this.pool.query('SELECT 1 FROM adapter_parked WHERE adapter = $1::text AND sender = $2::text AND message_id = $3::text LIMIT 1',
            [this.config.name, key.sender, key.messageId]);
        return found.rowCount !== 0;
    }

    private async park(feed: Feed, raw: unknown, key: Parked, reason: string): Promise<void> {
        this.parking = true;
        await this.pool.query(
            `INSERT INTO adapter_parked (adapter, organisation, feed, sender, message_id, recipient, subject, record, reason)
             VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::jsonb, $9::text)`,
            [this.config.name, this.config.organisation, feed, key.sender, key.messageId, key.recipient, key.subject, JSON.stringify(raw), reason]);
    }

    /**
     * Tries parked records again, oldest first, once the ledger has what they name (the handoff,
     * or the handoff's document). A record that goes through leaves the lot; one refused for good
     * is quarantined; one still missing its handoff holds back the later records of its message.
     */
    private async retryParked(report: Report): Promise<void> {
        const ready = await this.pool.query<{ id: string; feed: Feed; sender: string; message_id: string; record: unknown }>(
            `SELECT p.id, p.feed, p.sender, p.message_id, p.record FROM adapter_parked p
              WHERE p.adapter = $1::text
                AND CASE WHEN p.feed = 'inbox' THEN EXISTS (SELECT 1 FROM handoffs h WHERE h.sender = p.sender AND h.message_id = p.message_id)
                         ELSE EXISTS (SELECT 1 FROM documents d WHERE d.type = p.record -> 'document' ->> 'type' AND d.number = p.record -> 'document' ->> 'number') END
              ORDER BY p.id LIMIT $2::integer`,
            [this.config.name, BATCH]);
        const held = new Set<string>();
        for (const row of ready.rows) {
            const message = `${row.sender}/${row.message_id}`;
            if (held.has(message)) {
                continue;
            }
            try {
                await (row.feed === 'outbox' ? this.applyOutbox(row.record, report) : this.applyInbox(row.record, report));
            } catch (error) {
                if (error instanceof LedgerError && error.code === 'NOT_FOUND') {
                    held.add(message);
                    await this.pool.query('UPDATE adapter_parked SET attempts = attempts + 1, reason = $2::text WHERE id = $1::bigint', [row.id, reasonOf(error)]);
                    continue;
                }
                if (!isPermanent(error) && !(error instanceof MalformedRecord)) {
                    throw error;
                }
                await this.quarantine(row.feed, row.record, reasonOf(error));
                report.quarantined++;
            }
            await this.pool.query('DELETE FROM adapter_parked WHERE id = $1::bigint', [row.id]);
        }
    }

    private async cursor(feed: string): Promise<string> {
        const result = await this.pool.query<{ cursor: string }>('SELECT cursor FROM adapter_cursors WHERE adapter = $1::text AND feed = $2::text', [this.config.name, feed]);
        return result.rows[0]?.cursor ?? '';
    }

    private async advance(feed: Feed, cursor: string): Promise<void> {
        await this.pool.query(
            `INSERT INTO adapter_cursors (adapter, feed, cursor) VALUES ($1::text, $2::text, $3::text)
             ON CONFLICT (adapter, feed) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
            [this.config.name, feed, cursor]);
        await this.transport.committed(feed, cursor);
    }

    private async quarantine(feed: string, record: unknown, reason: string): Promise<void> {
        this.logger.warn({ adapter: this.config.name, feed, reason }, 'record quarantined');
        await this.pool.query('INSERT INTO adapter_quarantine (adapter, organisation, feed, record, reason) VALUES ($1::text, $2::text, $3::text, $4::jsonb, $5::text)',
            // Kept with any text PostgreSQL cannot hold escaped, so that setting a record aside never fails.
            [this.config.name, this.config.organisation, feed, JSON.stringify(storableCopy(record ?? null)), reason]);
    }
}

/**
 * What an outbox record must wait for: earlier records of the same document (a handoff carries a
 * document issued before it), the same message, or the same permit (verifications draw it down in
 * the order customs declared). A record without a recognisable shape waits for nothing.
 */
function outboxKeys(raw: unknown): string[] {
    const item = (raw ?? {}) as Record<string, unknown>;
    const documentKey = (reference: unknown): string => {
        const { type, number } = (reference ?? {}) as { type?: unknown; number?: unknown };
        return `document:${String(type)}/${String(number)}`;
    };
    switch (item.kind) {
        case 'document': return [documentKey(item)];
        case 'handoff': return [`message:${String(item.messageId)}`, documentKey(item.document)];
        case 'verification': return [`declaration:${String(item.declarationNumber)}`, documentKey(item.permit)];
        default: return [];
    }
}

/** An inbox record waits for earlier records of the same message (received before decided). */
function inboxKeys(raw: unknown): string[] {
    const event = (raw ?? {}) as Record<string, unknown>;
    return [`message:${String(event.sender)}/${String(event.messageId)}`];
}

/** A record from an agency feed that does not have the shape of the feed contract. */
export class MalformedRecord extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'MalformedRecord';
    }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function checkOutboxItem(raw: unknown, config: AdapterConfig): OutboxItem {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new MalformedRecord('an outbox record must be a JSON object');
    }
    const item = raw as Partial<OutboxItem> & Record<string, unknown>;
    if (item.kind === 'document') {
        if (typeof item.content !== 'string' || item.content.length === 0 || !BASE64.test(item.content)) {
            throw new MalformedRecord('content must be the document in base64');
        }
        if (!config.sends.includes(String(item.type))) {
            throw new MalformedRecord(`type ${String(item.type)} is not among the types this adapter sends (${config.sends.join(', ')})`);
        }
        return item as OutboxItem;
    }
    if (item.kind === 'handoff') {
        const handoff = item as Partial<HandoffItem>;
        if (!handoff.document || !config.sends.includes(String(handoff.document.type))) {
            throw new MalformedRecord(`document.type ${String(handoff.document?.type)} is not among the types this adapter sends (${config.sends.join(', ')})`);
        }
        if (config.mode === 'relay' && (typeof handoff.payload !== 'string' || handoff.payload.length === 0 || !BASE64.test(handoff.payload))) {
            throw new MalformedRecord('payload must be the message in base64 (relay mode)');
        }
        if (config.mode === 'observe' && typeof handoff.payloadHash !== 'string') {
            throw new MalformedRecord('payloadHash is required (observe mode)');
        }
        return item as OutboxItem;
    }
    if (item.kind === 'verification') {
        if (config.organisation !== 'CustomsMSP') {
            throw new MalformedRecord('only customs verifies permits');
        }
        return item as OutboxItem;
    }
    if (item.kind === 'foreign-certificate') {
        if (config.organisation !== 'CustomsMSP' && config.organisation !== 'InspectionMSP') {
            throw new MalformedRecord('only customs and inspection receive foreign certificates');
        }
        if (typeof item.xml !== 'string' || item.xml.length === 0 || !BASE64.test(item.xml)) {
            throw new MalformedRecord('xml must be the signed certificate in base64');
        }
        return item as OutboxItem;
    }
    throw new MalformedRecord('kind must be document, handoff, verification or foreign-certificate');
}

function checkInboxEvent(raw: unknown): InboxEvent {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new MalformedRecord('an inbox record must be a JSON object');
    }
    const event = raw as Partial<InboxEvent>;
    if (event.kind !== 'RECEIVED' && event.kind !== 'DECIDED') {
        throw new MalformedRecord('kind must be RECEIVED or DECIDED');
    }
    if (typeof event.sender !== 'string' || typeof event.messageId !== 'string') {
        throw new MalformedRecord('sender and messageId are required');
    }
    return event as InboxEvent;
}
