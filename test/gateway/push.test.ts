import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { DAY, isoIn } from '../conformance/fixtures';
import { until } from '../support/until';
import { exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, type Persona } from './personas';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

interface Received {
    readonly headers: IncomingMessage['headers'];
    readonly body: string;
}

/** A webhook endpoint on loopback that fails its first `failures` deliveries. */
async function endpoint(failures: number): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
    const received: Received[] = [];
    let seen = 0;
    const server: Server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
            seen++;
            if (seen <= failures) {
                response.writeHead(503).end();
                return;
            }
            received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
            response.writeHead(204).end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
        received,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

/** Reads a server-sent event stream until `count` events arrived; returns them with their ids. */
async function readEvents(url: string, token: string, count: number, lastEventId?: string): Promise<{ id: string; event: string; data: { payload: { messageId?: string } } }[]> {
    const controller = new AbortController();
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}`, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) }, signal: controller.signal });
    expect(response.headers.get('content-type')).to.contain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const events: { id: string; event: string; data: { payload: { messageId?: string } } }[] = [];
    let buffer = '';
    const timer = setTimeout(() => controller.abort(), 10_000);
    try {
        while (events.length < count) {
            const { value, done } = await reader.read();
            if (done) {
                break;
            }
            buffer += Buffer.from(value).toString('utf8');
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':') && line.includes(': ')).map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
                if (fields.id) {
                    events.push({ id: fields.id, event: fields.event ?? '', data: JSON.parse(fields.data ?? '{}') });
                }
            }
        }
    } finally {
        clearTimeout(timer);
        controller.abort();
    }
    return events;
}

describe('the gateway pushes every state change', function () {
    this.timeout(60_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const declaration = '220120261200000001';
    let sequence = 0;

    async function send(recipient: string): Promise<string> {
        const messageId = `PUSH-${++sequence}`;
        const answer = await harness.request('POST', '/v1/handoffs', {
            token: tokens.get('customs'),
            body: { messageId, recipient, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(messageId), size: 1 },
        });
        expect(answer.status, answer.text).to.equal(201);
        return messageId;
    }

    before(async () => {
        harness = await GatewayHarness.start({ webhookBackoffSeconds: 0.05, webhookMaxAttempts: 3 });
        tokens = await harness.personaTokens();
        const answer = await harness.request('POST', '/v1/documents', {
            token: tokens.get('customs'),
            body: { type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: Buffer.from('d').toString('base64') },
        });
        expect(answer.status, answer.text).to.equal(201);
    });

    after(async () => {
        await harness?.stop();
    });

    it('streams to each caller only the events it may see, and resumes after Last-Event-ID', async () => {
        const toTax = await send('TaxMSP');
        const toForex = await send('ForexMSP');
        // Agencies see every document; of the handoffs, only their own.
        const taxEvents = await readEvents(`${harness.url}/v1/events`, tokens.get('tax') as string, 2);
        expect(taxEvents.map((event) => event.event)).to.deep.equal(['DocumentIssued', 'HandoffSent']);
        expect(taxEvents[1]?.data.payload.messageId).to.equal(toTax);
        const exporterEvents = await readEvents(`${harness.url}/v1/events`, tokens.get('exporter') as string, 3);
        expect(exporterEvents.map((event) => event.event)).to.deep.equal(['DocumentIssued', 'HandoffSent', 'HandoffSent']);
        const resumed = await readEvents(`${harness.url}/v1/events`, tokens.get('exporter') as string, 1, exporterEvents[1]?.id);
        expect(resumed[0]?.data.payload.messageId).to.equal(toForex);
        const live = readEvents(`${harness.url}/v1/events`, tokens.get('forex') as string, 3);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const later = await send('ForexMSP');
        expect((await live).slice(1).map((event) => event.data.payload.messageId)).to.deep.equal([toForex, later]);
    });

    it('delivers signed webhooks, retrying with backoff until the endpoint answers', async () => {
        const hook = await endpoint(2);
        try {
            const created = await harness.request<{ id: string; secret: string }>('POST', '/v1/webhooks', { token: tokens.get('tax'), body: { url: hook.url, events: ['HandoffSent'] } });
            expect(created.status, created.text).to.equal(201);
            const messageId = await send('TaxMSP');
            await send('ForexMSP'); // not tax's: never delivered to it
            const delivery = await until(() => hook.received[0], 'the first delivery to arrive');
            const body = JSON.parse(delivery.body) as { event: string; payload: { messageId: string } };
            expect(body.event).to.equal('HandoffSent');
            expect(body.payload.messageId).to.equal(messageId);
            const [timestamp, digest] = String(delivery.headers['counterfoil-signature']).split(',').map((part) => part.split('=')[1]);
            expect(digest).to.equal(createHmac('sha256', created.body.secret).update(`${timestamp}.${delivery.body}`).digest('hex'));
            const deliveries = await harness.request<{ status: string; attempts: number }[]>('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: tokens.get('tax') });
            expect(deliveries.body).to.have.length(1);
            expect(deliveries.body[0]).to.include({ status: 'DELIVERED', attempts: 3 });
            expect(hook.received).to.have.length(1);
        } finally {
            await hook.close();
        }
    });

    it('dead-letters a delivery the endpoint keeps refusing, and keeps it in the log', async () => {
        const hook = await endpoint(1000);
        try {
            const created = await harness.request<{ id: string }>('POST', '/v1/webhooks', { token: tokens.get('forex'), body: { url: hook.url, events: ['*'] } });
            await send('ForexMSP');
            const dead = await until(async () => {
                const log = await harness.request<{ status: string; attempts: number; lastStatus: number }[]>('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: tokens.get('forex') });
                return log.body[0]?.status === 'DEAD' ? log.body[0] : undefined;
            }, 'the delivery to be dead-lettered');
            expect(dead).to.include({ status: 'DEAD', attempts: 3, lastStatus: 503 });
        } finally {
            await hook.close();
        }
    });

    it('lists and deletes only the caller\'s own subscriptions', async () => {
        const created = await harness.request<{ id: string }>('POST', '/v1/webhooks', { token: tokens.get('exporter'), body: { url: 'https://erp.example.com/counterfoil', events: ['HandoffAccepted', 'HandoffRejected'] } });
        const mine = await harness.request<{ id: string }[]>('GET', '/v1/webhooks', { token: tokens.get('exporter') });
        expect(mine.body.map((hook) => hook.id)).to.deep.equal([created.body.id]);
        expect((await harness.request('DELETE', `/v1/webhooks/${created.body.id}`, { token: tokens.get('tax') })).status).to.equal(404);
        expect((await harness.request('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: tokens.get('tax') })).status).to.equal(404);
        expect((await harness.request('DELETE', `/v1/webhooks/${created.body.id}`, { token: tokens.get('exporter') })).status).to.equal(204);
        expect((await harness.request<unknown[]>('GET', '/v1/webhooks', { token: tokens.get('exporter') })).body).to.deep.equal([]);
    });

    it('has exercised every push route, each answer checked against the OpenAPI document', () => {
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
        const push = harness.gateway.api.all.filter((route) => route.tag === 'Push').map((route) => `${route.method.toUpperCase()} ${route.path}`);
        expect(push.filter((route) => !seen.has(route))).to.deep.equal([]);
    });
});
