import type { Request, Response } from 'express';
import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import type { Services } from '../services';
import { eventsAfter } from './events-query';

const KEEP_ALIVE_MS = 15_000;
const POLL_MS = 2_000;

/**
 * `GET /v1/events`: every state change the caller may see, as server-sent events whose ids are
 * the event log's sequence numbers. A client that reconnects with `Last-Event-ID` (or `?after=`)
 * gets everything it missed, then live events.
 */
export function serverSentEventRoutes(services: Services): RouteSpec[] {
    return [{
        method: 'get', path: '/v1/events', tag: 'Push', query: { after: { type: 'string', pattern: '^([0-9]{1,18}|latest)$', description: 'resume after this event id (as Last-Event-ID), or `latest`: only events from now on' } },
        summary: 'Server-sent events of every state change the caller may see, resumable with Last-Event-ID',
        responses: { 200: { description: 'An event stream', contentType: 'text/event-stream', schema: { type: 'string' } } },
        handler: async ({ principal, query, request, response }) => {
            const header = request.get('last-event-id');
            if (header !== undefined && !/^[0-9]{1,18}$/.test(header)) {
                throw new Problem('INVALID_ARGUMENT', 'Last-Event-ID must be an event id this stream sent', 'last-event-id');
            }
            let last = header === undefined && query.after === 'latest'
                ? Number((await services.pool.query<{ last: string }>('SELECT coalesce(max(sequence), 0) AS last FROM ledger_events')).rows[0]?.last ?? 0)
                : Number(header ?? query.after ?? '0');
            response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
            response.write(': connected\n\n');
            let closed = false;
            let pumping = false;
            let again = false;
            const pump = async (): Promise<void> => {
                if (pumping) {
                    again = true;
                    return;
                }
                pumping = true;
                try {
                    do {
                        again = false;
                        for (let batch = await eventsAfter(services.pool, principal, last, 500); batch.length > 0 && !closed; batch = await eventsAfter(services.pool, principal, last, 500)) {
                            for (const event of batch) {
                                response.write(`id: ${event.sequence}\nevent: ${event.name}\ndata: ${JSON.stringify(event)}\n\n`);
                                last = event.sequence;
                            }
                        }
                    } while (again && !closed);
                } catch {
                    close();
                } finally {
                    pumping = false;
                }
            };
            const unsubscribe = services.indexer.onIndexed(() => void pump());
            const poll = setInterval(() => void pump(), POLL_MS);
            const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
            const server = (request.socket as unknown as { server?: NodeJS.EventEmitter }).server;
            const close = (): void => {
                if (closed) {
                    return;
                }
                closed = true;
                unsubscribe();
                clearInterval(poll);
                clearInterval(keepAlive);
                server?.off('draining', close);
                response.end();
            };
            server?.on('draining', close);
            (request as Request).on('close', close);
            (response as Response).on('error', close);
            await pump();
            return { handled: true };
        },
    }];
}
