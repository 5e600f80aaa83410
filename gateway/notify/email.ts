import { AGENCIES, type CaseMessage, type CaseRecord, type DocumentRecord, EMAIL_ADDRESS, type Handoff, type ThreadMessage, unstorableText } from '@counterfoil/chaincode';
import { createTransport, type Transporter } from 'nodemailer';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { inTransaction, type Migration } from '../../network/postgres';
import { ownerOf, partyOf, seesEverything } from '../auth/principal';
import type { Language } from '../exports/tables';
import { Problem } from '../http/problem';
import { ALL_AGENCIES } from '../indexer/audience';
import type { RouteSpec } from '../openapi/api';
import { Wakeup } from '../wakeup';
import { authorityMail, composeMail, type Details, type Topic, TOPICS } from './messages';

export const emailSchema: Migration[] = [{
    id: 1,
    name: 'e-mail notifications',
    sql: `
-- Who wants which notifications by e-mail, one subscription per principal.
CREATE TABLE email_subscriptions (
    owner      text PRIMARY KEY,
    party      text NOT NULL,
    sees_all   boolean NOT NULL,
    address    text NOT NULL,
    language   text NOT NULL,
    topics     text[] NOT NULL,
    updated_at timestamptz NOT NULL
);
-- How far the ledger's events, and the deadlines of handoffs, have been looked at.
CREATE TABLE email_checkpoint (
    id             integer PRIMARY KEY,
    event_sequence bigint NOT NULL,
    deadlines_to   timestamptz
);
INSERT INTO email_checkpoint (id, event_sequence) VALUES (1, 0);
-- What each subscriber is to be told, once (by its source), until a mail carries it.
CREATE TABLE email_notifications (
    id          bigserial PRIMARY KEY,
    owner       text NOT NULL,
    source      text NOT NULL,
    details     jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    delivery_id bigint,
    UNIQUE (owner, source)
);
CREATE INDEX email_notifications_waiting ON email_notifications (owner, created_at) WHERE delivery_id IS NULL;
-- Mails, with their attempts: SENT, or DEAD after the last.
CREATE TABLE email_deliveries (
    id              bigserial PRIMARY KEY,
    owner           text NOT NULL,
    address         text NOT NULL,
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text NOT NULL,
    notifications   integer NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
);
CREATE INDEX email_deliveries_due ON email_deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX email_deliveries_owner ON email_deliveries (owner, id DESC);
`,
}];

export interface EmailOptions {
    /** smtp:// or smtps:// URL of the server mail goes through; without it nothing is sent and subscriptions are refused. */
    readonly smtpUrl?: string;
    /** The From header. */
    readonly from?: string;
    /** Where readers reach the console (links in mails point there); by default the gateway's own address. */
    readonly publicUrl?: string;
    /** How long a first notification waits for others to join it in one digest (default 60 s). */
    readonly digestMs?: number;
    /** Attempts before a mail is DEAD (default 6); the first retry waits `backoffBaseMs`, each next twice as long. */
    readonly maxAttempts?: number;
    readonly backoffBaseMs?: number;
    /** The clock deadlines and digests are judged by. */
    readonly now?: () => Date;
    /** How long an idle notifier sleeps before looking again (default 1 s). */
    readonly idleMs?: number;
}


interface Subscription {
    owner: string; party: string; sees_all: boolean; address: string; language: Language; topics: Topic[]; updated_at: Date;
}

interface LoggedEvent {
    sequence: string; name: string; payload: unknown; audience: string[];
}

/** The notification an event makes, and who it is not news to (its author). */
export function notificationOf(name: string, payload: unknown): { details: Details; author?: string; audience?: string[] } | undefined {
    switch (name) {
        case 'ForeignCertificateReceived': {
            // A verdict that opened a case tells the case's parties, as the case's opening would.
            const record = (payload as { caseRecord?: CaseRecord }).caseRecord;
            return record ? { ...notificationOf('CaseOpened', record), audience: record.parties } as { details: Details; author?: string; audience: string[] } : undefined;
        }
        case 'CaseOpened': {
            const record = payload as CaseRecord;
            return { details: { topic: 'CASE_OPENED', caseId: record.caseId, reason: record.reason, openedBy: record.openedBy }, author: record.openedBy };
        }
        case 'CaseResolved': {
            const record = payload as CaseRecord;
            return record.outcome ? { details: { topic: 'CASE_RESOLVED', caseId: record.caseId, code: record.outcome.code, by: record.outcome.by }, author: record.outcome.by } : undefined;
        }
        case 'CaseMessageAdded': {
            const message = payload as CaseMessage;
            return { details: { topic: 'MESSAGE_RECEIVED', author: message.author, sequence: message.sequence, caseId: message.caseId }, author: message.author };
        }
        case 'ThreadMessageAdded': {
            const message = payload as ThreadMessage;
            return { details: { topic: 'MESSAGE_RECEIVED', author: message.author, sequence: message.sequence, document: { type: message.type, number: message.number } }, author: message.author };
        }
        case 'HandoffRejected': {
            const handoff = payload as Handoff;
            return {
                details: { topic: 'HANDOFF_REJECTED', sender: handoff.sender, recipient: handoff.recipient, messageId: handoff.messageId, reasonCode: handoff.acknowledgement?.reasonCode, document: handoff.document },
                author: handoff.recipient,
            };
        }
        case 'PermitVerified':
        case 'PermitRejected': {
            const permit = (payload as { permitDocument?: DocumentRecord }).permitDocument;
            return permit?.status === 'EXHAUSTED' ? { details: { topic: 'PERMIT_EXHAUSTED', type: permit.type, number: permit.number } } : undefined;
        }
        case 'DocumentRevoked': {
            const record = payload as DocumentRecord;
            return { details: { topic: 'DOCUMENT_REVOKED', type: record.type, number: record.number }, author: record.issuer };
        }
        default:
            return undefined;
    }
}

/** Whether a subscriber may see something whose audience this is (as for webhooks and the event stream). */
function sees(subscription: Subscription, audience: readonly string[]): boolean {
    return subscription.sees_all || audience.includes(subscription.party)
        || (audience.includes(ALL_AGENCIES) && (AGENCIES as readonly string[]).includes(subscription.party));
}

/**
 * E-mail notifications. One worker turns the ledger's events (from the query tables' event log)
 * and handoffs whose deadlines pass into notifications for each subscriber who may see them and
 * asked for their topic; gathers a subscriber's notifications into one mail once the first has
 * waited the digest window; and sends mails through SMTP, retrying with exponential backoff
 * until the mail is DEAD. Every step is a row in PostgreSQL, so a restart loses nothing and sends
 * nothing twice that was sent.
 */
export class EmailNotifier {
    private stopped = false;
    private readonly wakeup = new Wakeup();
    private done?: Promise<void>;
    private readonly transport?: Transporter;
    private publicUrl: string;
    private readonly now: () => Date;

    constructor(private readonly pool: Pool, private readonly logger: Logger, private readonly options: EmailOptions) {
        this.now = options.now ?? (() => new Date());
        this.transport = options.smtpUrl ? createTransport(options.smtpUrl) : undefined;
        this.publicUrl = options.publicUrl ?? 'http://localhost:8080';
    }

    get configured(): boolean {
        return this.transport !== undefined;
    }

    /** Starts sending; `gatewayUrl` is where links point when no public address was given. */
    start(gatewayUrl: string): void {
        this.publicUrl = this.options.publicUrl ?? gatewayUrl;
        if (this.transport) {
            this.done ??= this.loop();
        }
    }

    nudge(): void {
        this.wakeup.wake();
    }

    async stop(): Promise<void> {
        this.stopped = true;
        this.wakeup.wake();
        await this.done;
        this.transport?.close();
    }

    private async loop(): Promise<void> {
        while (!this.stopped) {
            try {
                await this.runOnce();
            } catch (error) {
                this.logger.warn({ err: error }, 'e-mail notifications: a step failed; trying again');
            }
            if (!this.stopped) {
                await this.wakeup.sleep(this.options.idleMs ?? 1000);
            }
        }
    }

    /** One round: new events and passed deadlines into notifications, due digests into mails, due mails sent. */
    async runOnce(): Promise<void> {
        const subscriptions = (await this.pool.query<Subscription>('SELECT * FROM email_subscriptions')).rows;
        while (await this.collectEvents(subscriptions)) {
            // until the event log is read to its end
        }
        await this.collectDeadlines(subscriptions);
        await this.compose();
        await this.send();
    }


    private async notify(client: PoolClient, owner: string, source: string, details: Details): Promise<void> {
        await client.query(
            'INSERT INTO email_notifications (owner, source, details, created_at) VALUES ($1::text, $2::text, $3::jsonb, $4::timestamptz) ON CONFLICT (owner, source) DO NOTHING',
            [owner, source, JSON.stringify(details), this.now()]);
    }

    /** Reads the next events after the checkpoint into notifications; answers whether there may be more. */
    private async collectEvents(subscriptions: readonly Subscription[]): Promise<boolean> {
        return inTransaction(this.pool, async (client) => {
            const { rows: [checkpoint] } = await client.query<{ event_sequence: string }>('SELECT event_sequence FROM email_checkpoint WHERE id = 1 FOR UPDATE');
            const { rows: events } = await client.query<LoggedEvent>(
                'SELECT sequence, name, payload, audience FROM ledger_events WHERE sequence > $1::bigint ORDER BY sequence LIMIT 500', [checkpoint?.event_sequence ?? '0']);
            for (const event of events) {
                await this.tellAuthority(client, event);
                const made = notificationOf(event.name, event.payload);
                if (!made) {
                    continue;
                }
                for (const subscription of subscriptions) {
                    if (subscription.topics.includes(made.details.topic) && subscription.party !== made.author && sees(subscription, made.audience ?? event.audience)) {
                        await this.notify(client, subscription.owner, `event/${event.sequence}`, made.details);
                    }
                }
            }
            const last = events.at(-1);
            if (last) {
                await client.query('UPDATE email_checkpoint SET event_sequence = $1::bigint WHERE id = 1', [last.sequence]);
            }
            return events.length === 500;
        });
    }

    /**
     * A foreign authority is a party to the cases on its certificates but has no console: it is
     * told at its contact address on file, in a mail of its own, when such a case opens and closes.
     */
    private async tellAuthority(client: PoolClient, event: LoggedEvent): Promise<void> {
        const caseRecord = event.name === 'ForeignCertificateReceived' ? (event.payload as { caseRecord?: CaseRecord }).caseRecord
            : event.name === 'CaseResolved' || event.name === 'CaseWithdrawn' ? event.payload as CaseRecord : undefined;
        if (caseRecord?.subject.kind !== 'FOREIGN_CERTIFICATE') {
            return;
        }
        const { rows: [authority] } = await client.query<{ contact: string; name: string }>(
            "SELECT contact, record ->> 'name' AS name FROM foreign_authorities WHERE authority_id = $1::text", [caseRecord.subject.authorityId]);
        if (!authority) {
            return;
        }
        const mail = authorityMail(caseRecord, authority.name);
        await client.query(
            `INSERT INTO email_deliveries (owner, address, subject, body_text, body_html, notifications, status, next_attempt_at, created_at)
             VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, 1, 'PENDING', $6::timestamptz, $6::timestamptz)`,
            [`authority:${caseRecord.subject.authorityId}`, authority.contact, mail.subject, mail.text, mail.html, this.now()]);
    }

    /** Handoffs whose receipt or decision deadline passed since the last look (by the notifier's clock). */
    private async collectDeadlines(subscriptions: readonly Subscription[]): Promise<void> {
        const wanting = subscriptions.filter((subscription) => subscription.topics.includes('HANDOFF_OVERDUE'));
        await inTransaction(this.pool, async (client) => {
            const { rows: [checkpoint] } = await client.query<{ deadlines_to: Date | null }>('SELECT deadlines_to FROM email_checkpoint WHERE id = 1 FOR UPDATE');
            const to = this.now();
            const from = checkpoint?.deadlines_to ?? new Date(to.getTime() - 24 * 3600 * 1000);
            if (wanting.length > 0 && to > from) {
                const { rows } = await client.query<{ record: Handoff; step: 'receipt' | 'acknowledgement'; deadline: Date }>(
                    `SELECT record, 'receipt' AS step, receipt_deadline AS deadline FROM handoffs
                      WHERE status = 'SENT' AND receipt_deadline > $1::timestamptz AND receipt_deadline <= $2::timestamptz
                     UNION ALL
                     SELECT record, 'acknowledgement', acknowledgement_deadline FROM handoffs
                      WHERE status = 'RECEIVED' AND acknowledgement_deadline > $1::timestamptz AND acknowledgement_deadline <= $2::timestamptz`, [from, to]);
                for (const { record, step, deadline } of rows) {
                    const details: Details = { topic: 'HANDOFF_OVERDUE', sender: record.sender, recipient: record.recipient, messageId: record.messageId, deadline: deadline.toISOString(), step };
                    for (const subscription of wanting) {
                        if (sees(subscription, [record.sender, record.recipient, record.subject])) {
                            await this.notify(client, subscription.owner, `overdue/${step}/${record.sender}/${record.messageId}`, details);
                        }
                    }
                }
            }
            await client.query('UPDATE email_checkpoint SET deadlines_to = $1::timestamptz WHERE id = 1', [to]);
        });
    }

    /** Gathers each subscriber's waiting notifications into one mail once the oldest has waited the digest window. */
    private async compose(): Promise<void> {
        const due = new Date(this.now().getTime() - (this.options.digestMs ?? 60_000));
        const { rows: owners } = await this.pool.query<{ owner: string }>(
            'SELECT owner FROM email_notifications WHERE delivery_id IS NULL GROUP BY owner HAVING min(created_at) <= $1::timestamptz', [due]);
        for (const { owner } of owners) {
            await inTransaction(this.pool, async (client) => {
                const { rows: [subscription] } = await client.query<Subscription>('SELECT * FROM email_subscriptions WHERE owner = $1::text FOR UPDATE', [owner]);
                const { rows: waiting } = await client.query<{ id: string; details: Details }>(
                    'SELECT id, details FROM email_notifications WHERE owner = $1::text AND delivery_id IS NULL ORDER BY id FOR UPDATE', [owner]);
                if (waiting.length === 0) {
                    return;
                }
                if (!subscription) {
                    // The subscriber has gone: what was waiting for it is dropped.
                    await client.query('DELETE FROM email_notifications WHERE owner = $1::text AND delivery_id IS NULL', [owner]);
                    return;
                }
                const mail = composeMail(waiting.map((row) => row.details), subscription.language, `${this.publicUrl.replace(/\/$/, '')}/console/`);
                const { rows: [delivery] } = await client.query<{ id: string }>(
                    `INSERT INTO email_deliveries (owner, address, subject, body_text, body_html, notifications, status, next_attempt_at, created_at)
                     VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::int, 'PENDING', $7::timestamptz, $7::timestamptz) RETURNING id`,
                    [owner, subscription.address, mail.subject, mail.text, mail.html, waiting.length, this.now()]);
                await client.query('UPDATE email_notifications SET delivery_id = $1::bigint WHERE id = ANY($2::bigint[])', [delivery?.id, waiting.map((row) => row.id)]);
            });
        }
    }

    /** Sends the mails that are due, one at a time; a failure is retried later, and after the last attempt the mail is DEAD. */
    private async send(): Promise<void> {
        const transport = this.transport as Transporter;
        const { rows } = await this.pool.query<{ id: string; address: string; subject: string; body_text: string; body_html: string; attempts: number }>(
            "SELECT id, address, subject, body_text, body_html, attempts FROM email_deliveries WHERE status = 'PENDING' AND next_attempt_at <= $1::timestamptz ORDER BY id LIMIT 50", [this.now()]);
        for (const row of rows) {
            if (this.stopped) {
                return;
            }
            try {
                await transport.sendMail({ from: this.options.from ?? 'Counterfoil <counterfoil@localhost>', to: row.address, subject: row.subject, text: row.body_text, html: row.body_html });
                await this.pool.query("UPDATE email_deliveries SET status = 'SENT', attempts = attempts + 1, sent_at = $2::timestamptz, last_error = NULL WHERE id = $1::bigint", [row.id, this.now()]);
            } catch (error) {
                const attempts = row.attempts + 1;
                const dead = attempts >= (this.options.maxAttempts ?? 6);
                const next = new Date(this.now().getTime() + (this.options.backoffBaseMs ?? 30_000) * 2 ** (attempts - 1));
                // The log says what failed in the hub's words: the server's reply code, never more of what it said.
                const code = (error as { responseCode?: number; code?: string }).responseCode ?? (error as { code?: string }).code ?? 'ERROR';
                await this.pool.query('UPDATE email_deliveries SET status = $2::text, attempts = $3::int, next_attempt_at = $4::timestamptz, last_error = $5::text WHERE id = $1::bigint',
                    [row.id, dead ? 'DEAD' : 'PENDING', attempts, next, `the mail server refused or could not be reached (${String(code)})`]);
                this.logger.warn({ delivery: row.id, attempts, dead, code }, 'e-mail not sent');
            }
        }
    }
}

/** The e-mail subscription routes: each principal its own. */
export function emailRoutes(pool: Pool, notifier: EmailNotifier): RouteSpec[] {
    const view = (row: Subscription): Record<string, unknown> => ({ address: row.address, language: row.language, topics: row.topics, updatedAt: row.updated_at.toISOString() });
    return [
        {
            method: 'put', path: '/v1/notifications/email', tag: 'Notifications', body: 'EmailSubscription',
            summary: 'Choose which notifications reach the caller by e-mail, and in which language (several close together come as one digest)',
            responses: { 200: { description: 'The subscription', schema: 'EmailSubscriptionView' } },
            handler: async ({ principal, body }) => {
                const request = body as { address: string; language: Language; topics: Topic[] };
                if (!notifier.configured) {
                    throw new Problem('FAILED_PRECONDITION', 'this hub sends no e-mail: its administrator sets SMTP_URL first', 'address');
                }
                if (!EMAIL_ADDRESS.test(request.address) || request.address.length > 254 || unstorableText(request.address)) {
                    throw new Problem('INVALID_ARGUMENT', 'address must be an e-mail address (local part @ domain)', 'address');
                }
                const { rows: [row] } = await pool.query<Subscription>(
                    `INSERT INTO email_subscriptions (owner, party, sees_all, address, language, topics, updated_at)
                     VALUES ($1::text, $2::text, $3::boolean, $4::text, $5::text, $6::text[], now())
                     ON CONFLICT (owner) DO UPDATE SET address = EXCLUDED.address, language = EXCLUDED.language, topics = EXCLUDED.topics, updated_at = now()
                     RETURNING *`,
                    [ownerOf(principal), partyOf(principal), seesEverything(principal), request.address, request.language, [...new Set(request.topics)]]);
                return { status: 200, body: view(row as Subscription) };
            },
        },
        {
            method: 'get', path: '/v1/notifications/email', tag: 'Notifications', summary: 'The caller\'s e-mail subscription (204 when it has none)',
            responses: { 200: { description: 'The subscription', schema: 'EmailSubscriptionView' }, 204: { description: 'No subscription' } },
            handler: async ({ principal, response }) => {
                const { rows: [row] } = await pool.query<Subscription>('SELECT * FROM email_subscriptions WHERE owner = $1::text', [ownerOf(principal)]);
                if (!row) {
                    response.status(204).end();
                    return { handled: true };
                }
                return { status: 200, body: view(row) };
            },
        },
        {
            method: 'delete', path: '/v1/notifications/email', tag: 'Notifications', summary: 'End the caller\'s e-mail notifications (what waits unsent is dropped)',
            responses: { 204: { description: 'Ended' } },
            handler: async ({ principal, response }) => {
                const { rowCount } = await pool.query('DELETE FROM email_subscriptions WHERE owner = $1::text', [ownerOf(principal)]);
                if (rowCount === 0) {
                    throw new Problem('NOT_FOUND', 'no e-mail subscription of yours', 'owner');
                }
                response.status(204).end();
                return { handled: true };
            },
        },
        {
            method: 'get', path: '/v1/notifications/email/deliveries', tag: 'Notifications', summary: 'The caller\'s mails, newest first: SENT, PENDING (with the next attempt) or DEAD',
            responses: { 200: { description: 'Mails', schema: { type: 'array', items: { $ref: '#/components/schemas/EmailDelivery' } } } },
            handler: async ({ principal }) => {
                const { rows } = await pool.query<{ id: string; subject: string; notifications: number; status: string; attempts: number; next_attempt_at: Date; last_error: string | null; created_at: Date; sent_at: Date | null }>(
                    'SELECT * FROM email_deliveries WHERE owner = $1::text ORDER BY id DESC LIMIT 200', [ownerOf(principal)]);
                return {
                    status: 200,
                    body: rows.map((row) => ({
                        id: Number(row.id), subject: row.subject, notifications: row.notifications, status: row.status, attempts: row.attempts,
                        nextAttemptAt: row.next_attempt_at.toISOString(), lastError: row.last_error, createdAt: row.created_at.toISOString(), sentAt: row.sent_at?.toISOString() ?? null,
                    })),
                };
            },
        },
    ];
}

export { TOPICS };
