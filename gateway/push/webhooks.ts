import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import { partyOf, type Principal, seesEverything } from '../auth/principal';
import type { Services } from '../services';

const BATCH = 20;
const TIMEOUT_MS = 10_000;

function ownerOf(principal: Principal): string {
    return `${principal.org}/${principal.subject}`;
}

/** The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signature(secret: string, timestamp: number, body: string): string {
    return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A subscriber's address: an absolute http(s) URL with a host. */
function deliveryUrl(text: string): URL {
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw new Problem('INVALID_ARGUMENT', 'url must be an absolute URL', 'url');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new Problem('INVALID_ARGUMENT', 'url must be http or https', 'url');
    }
    if (url.hostname === '') {
        throw new Problem('INVALID_ARGUMENT', 'url must name a host', 'url');
    }
    return url;
}

export function webhookRoutes(services: Services): RouteSpec[] {
    const id = { id: { type: 'string', format: 'uuid' } };
    const subscription = {
        type: 'object', additionalProperties: false, required: ['id', 'url', 'events', 'createdAt'],
        properties: { id: { type: 'string' }, url: { type: 'string' }, events: { type: 'array', items: { type: 'string' } }, createdAt: { type: 'string', format: 'date-time' }, secret: { type: 'string' } },
    };
    return [
        {
            method: 'post', path: '/v1/webhooks', tag: 'Push', body: 'WebhookRequest',
            summary: 'Subscribe a URL to the events the caller may see; deliveries are signed with the returned secret',
            responses: { 201: { description: 'The subscription, with its secret (shown once)', schema: subscription } },
            handler: async ({ principal, body }) => {
                const request = body as { url: string; events: string[]; secret?: string };
                const url = deliveryUrl(request.url);
                const secret = request.secret ?? randomBytes(32).toString('base64url');
                const created = await services.pool.query<{ id: string; created_at: Date }>(
                    `INSERT INTO webhooks (id, owner, party, sees_all, url, secret, events) VALUES ($1::text, $2::text, $3::text, $4::boolean, $5::text, $6::text, $7::text[])
                     RETURNING id, created_at`,
                    [randomUUID(), ownerOf(principal), partyOf(principal), seesEverything(principal), url.toString(), secret, request.events]);
                const row = created.rows[0] as { id: string; created_at: Date };
                return { status: 201, body: { id: row.id, url: url.toString(), events: request.events, createdAt: row.created_at.toISOString(), secret } };
            },
        },
        {
            method: 'get', path: '/v1/webhooks', tag: 'Push', summary: 'The caller\'s subscriptions',
            responses: { 200: { description: 'Subscriptions', schema: { type: 'array', items: subscription } } },
            handler: async ({ principal }) => {
                const result = await services.pool.query<{ id: string; url: string; events: string[]; created_at: Date }>(
                    'SELECT id, url, events, created_at FROM webhooks WHERE owner = $1::text AND deleted_at IS NULL ORDER BY created_at', [ownerOf(principal)]);
                return { status: 200, body: result.rows.map((row) => ({ id: row.id, url: row.url, events: row.events, createdAt: row.created_at.toISOString() })) };
            },
        },
        {
            method: 'delete', path: '/v1/webhooks/{id}', tag: 'Push', params: id, summary: 'Unsubscribe; pending deliveries stop',
            responses: { 204: { description: 'Deleted' } },
            handler: async ({ principal, params, response }) => {
                const result = await services.pool.query('UPDATE webhooks SET deleted_at = now() WHERE id = $1::text AND owner = $2::text AND deleted_at IS NULL', [params.id, ownerOf(principal)]);
                if (result.rowCount === 0) {
                    throw new Problem('NOT_FOUND', `no subscription ${params.id} of yours`, 'id');
                }
                await services.pool.query("UPDATE webhook_deliveries SET status = 'CANCELLED' WHERE webhook_id = $1::text AND status = 'PENDING'", [params.id]);
                response.status(204).end();
                return { handled: true };
            },
        },
        {
            method: 'get', path: '/v1/webhooks/{id}/deliveries', tag: 'Push', params: id, summary: 'The delivery log of one subscription, newest first',
            responses: { 200: { description: 'Deliveries', schema: { type: 'array', items: { type: 'object' } } } },
            handler: async ({ principal, params }) => {
                const owned = await services.pool.query('SELECT 1 FROM webhooks WHERE id = $1::text AND owner = $2::text', [params.id, ownerOf(principal)]);
                if (owned.rowCount === 0) {
                    throw new Problem('NOT_FOUND', `no subscription ${params.id} of yours`, 'id');
                }
                const result = await services.pool.query<{ event_sequence: string; name: string; status: string; attempts: number; next_attempt_at: Date; last_status: number | null; last_error: string | null; delivered_at: Date | null }>(
                    `SELECT d.event_sequence, e.name, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.delivered_at
                       FROM webhook_deliveries d JOIN ledger_events e ON e.sequence = d.event_sequence
                      WHERE d.webhook_id = $1::text ORDER BY d.event_sequence DESC LIMIT 500`, [params.id]);
                return {
                    status: 200,
                    body: result.rows.map((row) => ({
                        eventId: Number(row.event_sequence), event: row.name, status: row.status, attempts: row.attempts,
                        nextAttemptAt: row.next_attempt_at.toISOString(), lastStatus: row.last_status, lastError: row.last_error,
                        deliveredAt: row.delivered_at?.toISOString() ?? null,
                    })),
                };
            },
        },
    ];
}

export type DispatcherOptions = Readonly<{
    /** Attempts before a delivery is dead-lettered (default 8). */
    maxAttempts?: number;
    /** The first retry waits this long, each next one twice as long, at most an hour (default 2 s). */
    backoffBaseSeconds?: number;
    /** How long an idle dispatcher sleeps before looking again (default 1 s). */
    idleMs?: number;
    onOutcome?: (outcome: 'DELIVERED' | 'RETRY' | 'DEAD') => void;
}>;

/**
 * Delivers pending webhook deliveries: POSTs the event, signed, and retries failures with
 * exponential backoff until the attempt limit, then marks the delivery DEAD (kept, with its last
 * error, in the subscriber's delivery log). Rows are claimed with SKIP LOCKED, so several
 * gateways can share the work.
 */
export class WebhookDispatcher {
    private stopped = false;
    private wake?: () => void;
    private readonly done: Promise<void>;
    private readonly maxAttempts: number;
    private readonly backoffBaseSeconds: number;
    private readonly idleMs: number;

    constructor(private readonly pool: Pool, private readonly logger: Logger, private readonly options: DispatcherOptions = {}) {
        this.maxAttempts = options.maxAttempts ?? 8;
        this.backoffBaseSeconds = options.backoffBaseSeconds ?? 1;
        this.idleMs = options.idleMs ?? 1000;
        this.done = this.loop();
    }

    nudge(): void {
        this.wake?.();
    }

    async stop(): Promise<void> {
        this.stopped = true;
        this.wake?.();
        await this.done;
    }

    private async loop(): Promise<void> {
        while (!this.stopped) {
            let worked = 0;
            try {
                worked = await this.tick();
            } catch (error) {
                this.logger.warn({ err: error }, 'webhook delivery tick failed');
            }
            if (worked === 0 && !this.stopped) {
                await new Promise<void>((resolve) => {
                    const timer = setTimeout(resolve, this.idleMs);
                    this.wake = () => { clearTimeout(timer); resolve(); };
                });
            }
        }
    }

    private async tick(): Promise<number> {
        const client = await this.pool.connect();
        try {
            await client.query('BEGIN');
            const due = await client.query<{ webhook_id: string; event_sequence: string; attempts: number; url: string; secret: string; name: string; block_number: string; transaction_id: string; occurred_at: Date; payload: unknown }>(
                `SELECT d.webhook_id, d.event_sequence, d.attempts, w.url, w.secret, e.name, e.block_number, e.transaction_id, e.occurred_at, e.payload
                   FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN ledger_events e ON e.sequence = d.event_sequence
                  WHERE d.status = 'PENDING' AND d.next_attempt_at <= now()
                  ORDER BY d.next_attempt_at LIMIT $1::integer FOR UPDATE OF d SKIP LOCKED`, [BATCH]);
            for (const row of due.rows) {
                const body = JSON.stringify({
                    id: Number(row.event_sequence), event: row.name, blockNumber: Number(row.block_number), transactionId: row.transaction_id,
                    occurredAt: row.occurred_at.toISOString(), payload: row.payload,
                });
                const timestamp = Math.floor(Date.now() / 1000);
                let status: number | null = null;
                let failure: string | null = null;
                try {
                    const answer = await fetch(row.url, {
                        method: 'POST', body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS),
                        headers: {
                            'Content-Type': 'application/json', 'User-Agent': 'Counterfoil-Webhooks/1',
                            'Counterfoil-Signature': signature(row.secret, timestamp, body), 'Counterfoil-Event': row.name,
                            'Counterfoil-Delivery': `${row.webhook_id}:${row.event_sequence}`,
                        },
                    });
                    status = answer.status;
                    await answer.body?.cancel();
                    if (status < 200 || status >= 300) {
                        failure = `the endpoint answered ${status}`;
                    }
                } catch (error) {
                    failure = (error as Error).message;
                }
                const attempts = row.attempts + 1;
                const outcome = failure === null ? 'DELIVERED' : attempts >= this.maxAttempts ? 'DEAD' : 'PENDING';
                await client.query(
                    `UPDATE webhook_deliveries SET status = $3::text, attempts = $4::integer, last_status = $5::integer, last_error = $6::text,
                        delivered_at = CASE WHEN $3::text = 'DELIVERED' THEN now() ELSE NULL END,
                        next_attempt_at = now() + make_interval(secs => LEAST(3600, $7::float8 * power(2, $4::integer)))
                      WHERE webhook_id = $1::text AND event_sequence = $2::bigint`,
                    [row.webhook_id, row.event_sequence, outcome, attempts, status, failure, this.backoffBaseSeconds]);
                this.options.onOutcome?.(outcome === 'PENDING' ? 'RETRY' : outcome);
            }
            await client.query('COMMIT');
            return due.rows.length;
        } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
        } finally {
            client.release();
        }
    }
}
