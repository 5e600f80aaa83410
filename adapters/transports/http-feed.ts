import type { Delivery, FeedPage, Transport } from '../feed-contract';

export class TransportError extends Error {
    constructor(message: string, readonly status?: number) {
        super(message);
        this.name = 'TransportError';
    }
}

/** The `http-feed` transport: polls the agency system's feeds and posts relayed payloads to its inbox. */
export class HttpFeedTransport implements Transport {
    constructor(private readonly baseUrl: string, private readonly timeoutMs = 10_000) {}

    outbox(after: string, limit: number): Promise<FeedPage<unknown>> {
        return this.page('/feed/outbox', after, limit);
    }

    inbox(after: string, limit: number): Promise<FeedPage<unknown>> {
        return this.page('/feed/inbox', after, limit);
    }

    async deliver(delivery: Delivery): Promise<{ stored: boolean; payloadHash?: string }> {
        const body = await this.call('/inbox', { method: 'POST', body: JSON.stringify(delivery), headers: { 'Content-Type': 'application/json' } });
        const answer = body as { stored?: unknown; payloadHash?: unknown };
        if (typeof answer.stored !== 'boolean' || (answer.payloadHash !== undefined && typeof answer.payloadHash !== 'string')) {
            throw new TransportError('the agency inbox answered without stored (boolean) and payloadHash (string)');
        }
        return { stored: answer.stored, payloadHash: answer.payloadHash as string | undefined };
    }

    /** The agency system keeps its own feeds; nothing to file away. */
    async committed(): Promise<void> {
        return undefined;
    }

    private async page(path: string, after: string, limit: number): Promise<FeedPage<unknown>> {
        const body = await this.call(`${path}?after=${encodeURIComponent(after)}&limit=${limit}`, { method: 'GET' });
        const page = body as { items?: unknown; next?: unknown };
        if (!Array.isArray(page.items) || typeof page.next !== 'string') {
            throw new TransportError(`${path} answered without items (array) and next (string)`);
        }
        return { items: page.items, next: page.next };
    }

    private async call(path: string, init: RequestInit): Promise<unknown> {
        let response: Response;
        try {
            response = await fetch(`${this.baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
        } catch (error) {
            throw new TransportError(`the agency system is unreachable: ${(error as Error).message}`);
        }
        if (!response.ok) {
            await response.body?.cancel();
            throw new TransportError(`the agency system answered ${response.status} to ${path.split('?')[0]}`, response.status);
        }
        try {
            return await response.json();
        } catch {
            throw new TransportError(`the agency system answered ${path.split('?')[0]} with something that is not JSON`);
        }
    }
}
