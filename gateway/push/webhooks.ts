import { randomBytes, randomUUID } from 'node:crypto';
import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import { ownerOf, partyOf, type Principal, seesEverything } from '../auth/principal';
import type { Services } from '../services';
import { WebhookAddressPolicy } from './webhook-addresses';

export type WebhookSettings = Readonly<{
    /** Where deliveries may go: public addresses, and the private ranges an administrator allows. */
    addresses: WebhookAddressPolicy;
    /** Subscriptions one principal may hold at once. */
    maxPerPrincipal: number;
}>;

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = { addresses: new WebhookAddressPolicy(), maxPerPrincipal: 20 };

/** A subscriber's address: an absolute http(s) URL with a host, without credentials, at an address webhooks may reach. */
async function deliveryUrl(text: string, addresses: WebhookAddressPolicy): Promise<URL> {
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
    if (url.username !== '' || url.password !== '') {
        throw new Problem('INVALID_ARGUMENT', 'url must not carry credentials: deliveries are signed with the subscription\'s secret instead', 'url');
    }
    const refused = await addresses.problemWithHost(url.hostname);
    if (refused) {
        throw new Problem('INVALID_ARGUMENT', `url may not be reached by webhooks: ${refused}`, 'url');
    }
    return url;
}

export function webhookRoutes(services: Services, settings: WebhookSettings = DEFAULT_WEBHOOK_SETTINGS): RouteSpec[] {
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
                const url = await deliveryUrl(request.url, settings.addresses);
                const held = await services.pool.query<{ count: string }>('SELECT count(*) FROM webhooks WHERE owner = $1::text AND deleted_at IS NULL', [ownerOf(principal)]);
                if (Number(held.rows[0]?.count) >= settings.maxPerPrincipal) {
                    throw new Problem('FAILED_PRECONDITION', `a principal may hold at most ${settings.maxPerPrincipal} subscriptions (COUNTERFOIL_WEBHOOKS_PER_PRINCIPAL); delete one first`, 'url');
                }
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
                // A deleted subscription is gone, its log with it (its deliveries were cancelled).
                const owned = await services.pool.query('SELECT 1 FROM webhooks WHERE id = $1::text AND owner = $2::text AND deleted_at IS NULL', [params.id, ownerOf(principal)]);
                if (owned.rowCount === 0) {
                    throw new Problem('NOT_FOUND', `no subscription ${params.id} of yours`, 'id');
                }
                const result = await services.pool.query<{ event_sequence: string; name: string; status: string; attempts: number; next_attempt_at: Date; last_status: number | null; last_error: string | null; last_duration_ms: number | null; delivered_at: Date | null }>(
                    `SELECT d.event_sequence, e.name, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.last_duration_ms, d.delivered_at
                       FROM webhook_deliveries d JOIN ledger_events e ON e.sequence = d.event_sequence
                      WHERE d.webhook_id = $1::text ORDER BY d.event_sequence DESC LIMIT 500`, [params.id]);
                return {
                    status: 200,
                    body: result.rows.map((row) => ({
                        eventId: Number(row.event_sequence), event: row.name, status: row.status, attempts: row.attempts,
                        nextAttemptAt: row.next_attempt_at.toISOString(), lastStatus: row.last_status, lastError: row.last_error, lastDurationMs: row.last_duration_ms,
                        deliveredAt: row.delivered_at?.toISOString() ?? null,
                    })),
                };
            },
        },
    ];
}
