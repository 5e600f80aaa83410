import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { Wakeup } from '../wakeup';
import { WebhookAddressPolicy } from './webhook-addresses';

/** Deliveries claimed at a time, and in flight at once across all subscriptions. */
const CAPACITY = 32;

/** The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signature(secret: string, timestamp: number, body: string): string {
    return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type DispatcherOptions = Readonly<{
    /** Attempts before a delivery is dead-lettered (default 8). */
    maxAttempts?: number;
    /** The first retry waits this long, each next one twice as long, at most an hour (default 1 s). */
    backoffBaseSeconds?: number;
    /** How long an idle dispatcher sleeps before looking again (default 1 s). */
    idleMs?: number;
    /** How long an endpoint has to answer (default 10 s). */
    timeoutMs?: number;
    /** Where deliveries may go (default: public addresses only). */
    addresses?: WebhookAddressPolicy;
    onOutcome?: (outcome: 'DELIVERED' | 'RETRY' | 'DEAD') => void;
}>;

interface Due {
    readonly webhook_id: string;
    readonly event_sequence: string;
    readonly attempts: number;
    readonly url: string;
    readonly secret: string;
    readonly name: string;
    readonly block_number: string;
    readonly transaction_id: string;
    readonly occurred_at: Date;
    readonly payload: unknown;
}

/** What the delivery log says of an attempt: the status and the time, never what the server said. */
interface Attempt {
    readonly status: number | null;
    readonly failure: string | null;
    readonly durationMs: number;
}

/**
 * Delivers pending webhook deliveries: POSTs the event, signed, and retries failures with
 * exponential backoff until the attempt limit, then marks the delivery DEAD (kept, with the reason
 * in the hub's own words, in the subscriber's delivery log).
 *
 * Each delivery is claimed with a lease in a short transaction (SKIP LOCKED, so several gateways
 * share the work), made with no transaction open, and its outcome written on its own. Each
 * subscription has at most one delivery in flight, in event order, and a slow endpoint holds only
 * its own: the others go on being claimed and delivered meanwhile.
 */
export class WebhookDispatcher {
    private stopped = false;
    private readonly wakeup = new Wakeup();
    private readonly done: Promise<void>;
    private readonly inFlight = new Map<string, Promise<void>>();
    private readonly maxAttempts: number;
    private readonly backoffBaseSeconds: number;
    private readonly idleMs: number;
    private readonly timeoutMs: number;
    private readonly addresses: WebhookAddressPolicy;

    constructor(private readonly pool: Pool, private readonly logger: Logger, private readonly options: DispatcherOptions = {}) {
        this.maxAttempts = options.maxAttempts ?? 8;
        this.backoffBaseSeconds = options.backoffBaseSeconds ?? 1;
        this.idleMs = options.idleMs ?? 1000;
        this.timeoutMs = options.timeoutMs ?? 10_000;
        this.addresses = options.addresses ?? new WebhookAddressPolicy();
        this.done = this.loop();
    }

    nudge(): void {
        this.wakeup.wake();
    }

    async stop(): Promise<void> {
        this.stopped = true;
        this.wakeup.wake();
        await this.done;
        await Promise.all(this.inFlight.values());
    }

    private async loop(): Promise<void> {
        while (!this.stopped) {
            let claimed = 0;
            try {
                claimed = await this.claim();
            } catch (error) {
                this.logger.warn({ err: error }, 'claiming webhook deliveries failed');
            }
            if (claimed === 0 && !this.stopped) {
                await this.wakeup.sleep(this.idleMs);
            }
        }
    }

    /**
     * Leases the due deliveries of subscriptions with nothing in flight here (each subscription's
     * oldest first), and starts one sequence of deliveries per subscription.
     */
    private async claim(): Promise<number> {
        const room = CAPACITY - this.inFlight.size;
        if (room <= 0) {
            return 0;
        }
        const due = await this.pool.query<Due>(
            `WITH claimed AS (
                UPDATE webhook_deliveries d SET lease_until = now() + make_interval(secs => $3::float8)
                 WHERE (d.webhook_id, d.event_sequence) IN (
                        SELECT webhook_id, event_sequence FROM webhook_deliveries
                         WHERE status = 'PENDING' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
                           AND NOT (webhook_id = ANY ($2::text[]))
                         ORDER BY next_attempt_at LIMIT $1::integer FOR UPDATE SKIP LOCKED)
                RETURNING d.webhook_id, d.event_sequence, d.attempts)
             SELECT c.webhook_id, c.event_sequence, c.attempts, w.url, w.secret, e.name, e.block_number, e.transaction_id, e.occurred_at, e.payload
               FROM claimed c JOIN webhooks w ON w.id = c.webhook_id JOIN ledger_events e ON e.sequence = c.event_sequence
              ORDER BY c.webhook_id, c.event_sequence`,
            [room, [...this.inFlight.keys()], (this.timeoutMs / 1000) * 3 + 30]);
        const bySubscription = new Map<string, Due[]>();
        for (const row of due.rows) {
            bySubscription.set(row.webhook_id, [...(bySubscription.get(row.webhook_id) ?? []), row]);
        }
        for (const [webhook, rows] of bySubscription) {
            const run = (async () => {
                for (const row of rows) {
                    await this.deliver(row).catch((error: unknown) => this.logger.warn({ err: error, webhook }, 'recording a webhook delivery failed'));
                }
            })().finally(() => {
                this.inFlight.delete(webhook);
                this.wakeup.wake();
            });
            this.inFlight.set(webhook, run);
        }
        return due.rows.length;
    }

    private async deliver(row: Due): Promise<void> {
        const body = JSON.stringify({
            id: Number(row.event_sequence), event: row.name, blockNumber: Number(row.block_number), transactionId: row.transaction_id,
            occurredAt: row.occurred_at.toISOString(), payload: row.payload,
        });
        const attempt = await this.post(row, body);
        const attempts = row.attempts + 1;
        const outcome = attempt.failure === null ? 'DELIVERED' : attempts >= this.maxAttempts ? 'DEAD' : 'PENDING';
        await this.pool.query(
            `UPDATE webhook_deliveries SET status = $3::text, attempts = $4::integer, last_status = $5::integer, last_error = $6::text,
                    last_duration_ms = $8::integer, lease_until = NULL,
                    delivered_at = CASE WHEN $3::text = 'DELIVERED' THEN now() ELSE NULL END,
                    next_attempt_at = now() + make_interval(secs => LEAST(3600, $7::float8 * power(2, $4::integer)))
              WHERE webhook_id = $1::text AND event_sequence = $2::bigint AND status = 'PENDING'`,
            [row.webhook_id, row.event_sequence, outcome, attempts, attempt.status, attempt.failure, this.backoffBaseSeconds, attempt.durationMs]);
        this.options.onOutcome?.(outcome === 'PENDING' ? 'RETRY' : outcome);
    }

    /** One POST, to an address the policy allows; the answer's body is never read. */
    private async post(row: Due, body: string): Promise<Attempt> {
        const started = process.hrtime.bigint();
        const elapsed = (): number => Number((process.hrtime.bigint() - started) / 1_000_000n);
        const url = new URL(row.url);
        const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
        const refused = isIP(host) ? this.addresses.problemWith(host) : undefined;
        if (refused) {
            return { status: null, failure: `not sent: ${refused}`, durationMs: 0 };
        }
        const timestamp = Math.floor(Date.now() / 1000);
        return new Promise<Attempt>((resolve) => {
            const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
                method: 'POST', lookup: this.addresses.lookup, signal: AbortSignal.timeout(this.timeoutMs),
                headers: {
                    'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'Counterfoil-Webhooks/1',
                    'Counterfoil-Signature': signature(row.secret, timestamp, body), 'Counterfoil-Event': row.name,
                    'Counterfoil-Delivery': `${row.webhook_id}:${row.event_sequence}`,
                },
            }, (response) => {
                const status = response.statusCode ?? 0;
                response.destroy();
                resolve({ status, failure: status >= 200 && status < 300 ? null : `answered ${status}`, durationMs: elapsed() });
            });
            request.on('error', (error: NodeJS.ErrnoException) => resolve({ status: null, failure: failureOf(error, this.timeoutMs), durationMs: elapsed() }));
            request.end(body);
        });
    }
}

/** A failed attempt in the hub's own words: the log never carries what a foreign server said. */
function failureOf(error: NodeJS.ErrnoException, timeoutMs: number): string {
    if (error.name === 'AbortError' || error.name === 'TimeoutError') {
        return `no answer within ${timeoutMs / 1000} s`;
    }
    if (error.code === 'EADDRNOTALLOWED') {
        return `not sent: ${error.message}`;
    }
    const known: Readonly<Record<string, string>> = {
        ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', ENOTFOUND: 'the host name does not resolve', EAI_AGAIN: 'the host name does not resolve now',
        EHOSTUNREACH: 'host unreachable', ENETUNREACH: 'network unreachable', ETIMEDOUT: 'connection timed out', EPIPE: 'connection closed while sending',
    };
    if (error.code && known[error.code]) {
        return known[error.code] as string;
    }
    return error.code?.startsWith('ERR_TLS') || error.code?.includes('CERT') ? 'TLS handshake failed' : 'connection failed';
}
