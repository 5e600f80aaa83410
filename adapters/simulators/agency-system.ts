import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Delivery, InboxEvent, OutboxItem } from '../feed-contract';

/** Faults a simulated agency system can be told to have, each in percent of messages, chosen by the seed. */
export interface Faults {
    /** Deliveries the agency answers but never stores, every time (lost at the agency). */
    readonly dropPercent?: number;
    /** Outbox records the agency lists twice. */
    readonly duplicatePercent?: number;
    /** Deliveries the agency stores damaged on the first attempt (a different hash). */
    readonly corruptPercent?: number;
    /** Messages the agency rejects after storing them. */
    readonly rejectPercent?: number;
    /** Every answer comes this many milliseconds late (a slow system). */
    readonly delayMs?: number;
}

/** A small deterministic choice: the same seed, message and fault always decide the same way. */
function chance(seed: number, key: string, percent: number | undefined): boolean {
    if (!percent) {
        return false;
    }
    const digest = createHash('sha256').update(`${seed}\u0000${key}`).digest();
    return digest.readUInt32BE(0) / 0x1_0000_0000 < percent / 100;
}

/**
 * An agency's own system as its adapter sees it: an outbox feed of what it sent, an inbox that
 * stores relayed payloads, and an inbox feed of what it received and decided. Deterministic
 * from its seed; faults and an offline switch for tests and demonstrations.
 */
export class SimulatedAgencySystem {
    /** What the agency sent, each with the time from which its feed shows it. */
    private readonly outbox: { item: unknown; at: number }[] = [];
    private readonly inboxEvents: InboxEvent[] = [];
    private readonly stored = new Map<string, { payload: Buffer; attempts: number }>();
    private server?: Server;
    private port = 0;
    private listedTwice = 0;
    /** While true, every request is answered 503, as a system down for maintenance. */
    offline = false;

    constructor(readonly organisation: string, private readonly seed: number, private readonly faults: Faults = {}) {}

    /**
     * What the agency sends: it appears in the outbox feed (twice, for duplicated ones), from `at`
     * (epoch milliseconds; now when left out). The feed lists records in the order they were
     * sent, so a record waits behind an earlier one not yet due.
     */
    send(item: OutboxItem, at = 0): void {
        this.outbox.push({ item, at });
        const key = item.kind === 'handoff' ? item.messageId : item.kind === 'document' ? `${item.type}/${item.number}`
            : item.kind === 'verification' ? `${item.declarationNumber}/${item.permit.number}` : item.xml;
        if (chance(this.seed, `duplicate:${key}`, this.faults.duplicatePercent)) {
            this.outbox.push({ item, at });
            this.listedTwice++;
        }
    }

    /** How many outbox records the agency listed twice. */
    duplicated(): number {
        return this.listedTwice;
    }

    /** Goes offline now and comes back by itself after `ms`; resolves when it is back. */
    offlineFor(ms: number): Promise<void> {
        this.offline = true;
        return new Promise((resolve) => setTimeout(() => {
            this.offline = false;
            resolve();
        }, ms));
    }

    /** Puts any record, well-formed or not, in the outbox feed once: for testing what an adapter does with it. */
    sendRaw(record: unknown): void {
        this.outbox.push({ item: record, at: 0 });
    }

    /** Whether the agency would drop a delivery of this message (its fault knob, decided by the seed). */
    drops(sender: string, messageId: string): boolean {
        return chance(this.seed, `drop:${sender}/${messageId}`, this.faults.dropPercent);
    }

    /** Whether the agency rejects this message once it has it intact. */
    rejects(sender: string, messageId: string): boolean {
        return chance(this.seed, `reject:${sender}/${messageId}`, this.faults.rejectPercent);
    }

    /** Everything the agency holds, keyed `sender/messageId`. */
    holdings(): ReadonlyMap<string, { payload: Buffer; attempts: number }> {
        return this.stored;
    }

    /** Listens on a free port (or, after a restart, the same one as before) and answers with its address. */
    async start(): Promise<string> {
        const server = createServer((request, response) => void this.handle(request, response));
        this.server = server;
        await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(this.port, '127.0.0.1', () => resolve());
        });
        this.port = (server.address() as AddressInfo).port;
        return `http://127.0.0.1:${this.port}`;
    }

    async stop(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        if (server) {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeAllConnections();
            await closed;
        }
    }

    /**
     * Stops answering, connections cut, and comes back at the same address after `downMs`, with
     * everything it held (a system restarted over its own durable storage).
     */
    async restart(downMs = 0): Promise<void> {
        await this.stop();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        await this.start();
    }

    private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
        const answer = (status: number, body: unknown): void => {
            response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
        };
        if (this.faults.delayMs) {
            await new Promise((resolve) => setTimeout(resolve, this.faults.delayMs));
        }
        if (this.offline) {
            answer(503, { error: 'offline' });
            return;
        }
        const url = new URL(request.url ?? '/', 'http://agency');
        if (request.method === 'GET' && (url.pathname === '/feed/outbox' || url.pathname === '/feed/inbox')) {
            const after = Number(url.searchParams.get('after') || '0');
            const limit = Math.min(Number(url.searchParams.get('limit') || '100'), 500);
            let items: unknown[];
            if (url.pathname === '/feed/inbox') {
                items = this.inboxEvents.slice(after, after + limit);
            } else {
                const now = Date.now();
                const due = this.outbox.slice(after, after + limit);
                const waiting = due.findIndex((entry) => entry.at > now);
                items = (waiting === -1 ? due : due.slice(0, waiting)).map((entry) => entry.item);
            }
            answer(200, { items, next: String(after + items.length) });
            return;
        }
        if (request.method === 'POST' && url.pathname === '/inbox') {
            const chunks: Buffer[] = [];
            for await (const chunk of request) {
                chunks.push(chunk as Buffer);
            }
            let delivery: Delivery;
            try {
                delivery = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Delivery;
            } catch {
                answer(400, { error: 'the delivery is not JSON' });
                return;
            }
            answer(200, this.receive(delivery));
            return;
        }
        answer(404, { error: 'not found' });
    }

    /**
     * The agency takes a message in, relayed by the hub or over its own channel (observe mode):
     * it stores it (unless its faults drop it), lists the receipt in its inbox feed, and decides.
     */
    receive(delivery: Delivery): { stored: boolean; payloadHash?: string } {
        const key = `${delivery.sender}/${delivery.messageId}`;
        if (this.drops(delivery.sender, delivery.messageId)) {
            return { stored: false };
        }
        const previous = this.stored.get(key);
        const attempts = (previous?.attempts ?? 0) + 1;
        let payload = Buffer.from(delivery.payload, 'base64');
        if (attempts === 1 && chance(this.seed, `corrupt:${key}`, this.faults.corruptPercent)) {
            payload = Buffer.concat([payload.subarray(0, Math.max(0, payload.length - 1)), Buffer.from('?')]);
        }
        this.stored.set(key, { payload, attempts });
        const payloadHash = createHash('sha256').update(payload).digest('hex');
        this.inboxEvents.push({ kind: 'RECEIVED', sender: delivery.sender, messageId: delivery.messageId, payloadHash });
        const intact = payloadHash === createHash('sha256').update(Buffer.from(delivery.payload, 'base64')).digest('hex');
        if (intact) {
            const rejected = this.rejects(delivery.sender, delivery.messageId);
            this.inboxEvents.push({
                kind: 'DECIDED', sender: delivery.sender, messageId: delivery.messageId, decision: rejected ? 'REJECTED' : 'ACCEPTED',
                ...(rejected ? { reasonCode: 'DATA_INCOMPLETE', text: '缺少发票信息' } : {}),
            });
        }
        return { stored: true, payloadHash };
    }
}
