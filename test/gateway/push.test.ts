import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { DAY, isoIn } from '../conformance/fixtures';
import { until } from '../support/until';
import { exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, OTHER_USCC, type Persona, PERSONAS } from './personas';

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

/** Customs sends a handoff of `declaration` to `recipient` under a new message id; returns the id. */
async function sendHandoff(harness: GatewayHarness, customs: string, declaration: string, messageId: string, recipient: string): Promise<string> {
    const answer = await harness.request('POST', '/v1/handoffs', {
        token: customs,
        body: { messageId, recipient, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(messageId), size: 1 },
    });
    expect(answer.status, answer.text).to.equal(201);
    return messageId;
}

/** A gateway whose customs has recorded the export declaration the handoffs carry. */
async function harnessWithDeclaration(options: Parameters<typeof GatewayHarness.start>[0], declaration: string): Promise<{ harness: GatewayHarness; tokens: Map<Persona, string> }> {
    const harness = await GatewayHarness.start(options);
    const tokens = await harness.personaTokens();
    const answer = await harness.request('POST', '/v1/documents', {
        token: tokens.get('customs'),
        body: { type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: Buffer.from('d').toString('base64') },
    });
    expect(answer.status, answer.text).to.equal(201);
    return { harness, tokens };
}

describe('the gateway pushes every state change', function () {
    this.timeout(60_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const declaration = '220120261200000001';
    let sequence = 0;

    const send = (recipient: string): Promise<string> => sendHandoff(harness, tokens.get('customs') as string, declaration, `PUSH-${++sequence}`, recipient);

    before(async () => {
        ({ harness, tokens } = await harnessWithDeclaration({ webhookBackoffSeconds: 0.05, webhookMaxAttempts: 3 }, declaration));
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
        expect((await harness.request('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: tokens.get('exporter') })).status).to.equal(200);
        expect((await harness.request('DELETE', `/v1/webhooks/${created.body.id}`, { token: tokens.get('exporter') })).status).to.equal(204);
        expect((await harness.request<unknown[]>('GET', '/v1/webhooks', { token: tokens.get('exporter') })).body).to.deep.equal([]);
        expect((await harness.request('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: tokens.get('exporter') })).status, 'a deleted subscription\'s log is gone with it').to.equal(404);
    });

    it('has exercised every push route, each answer checked against the OpenAPI document', () => {
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
        const push = harness.gateway.api.all.filter((route) => route.tag === 'Push').map((route) => `${route.method.toUpperCase()} ${route.path}`);
        expect(push.filter((route) => !seen.has(route))).to.deep.equal([]);
    });
});

/** An endpoint on loopback that holds every request open until released. */
async function hangingEndpoint(): Promise<{ url: string; open: () => number; release(): Promise<void> }> {
    const held: ServerResponse[] = [];
    const server: Server = createServer((_request, response) => {
        held.push(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`,
        open: () => held.filter((response) => !response.writableEnded && !response.destroyed).length,
        release: async () => {
            for (const response of held) {
                response.destroy();
            }
            server.closeAllConnections();
            await new Promise((resolve) => server.close(() => resolve(undefined)));
        },
    };
}

describe('webhooks are kept to their owners, to addresses they may reach, and to their own pace', function () {
    this.timeout(60_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const declaration = '220120261200000002';
    let sequence = 0;

    const send = (recipient: string): Promise<string> => sendHandoff(harness, tokens.get('customs') as string, declaration, `HOOK-${++sequence}`, recipient);

    async function subscribe(persona: Persona | string, url: string, events: string[] = ['HandoffSent']): Promise<{ status: number; body: { id: string; code?: string; field?: string }; text: string }> {
        const token = tokens.get(persona as Persona) ?? persona;
        return harness.request<{ id: string; code?: string; field?: string }>('POST', '/v1/webhooks', { token, body: { url, events } });
    }

    before(async () => {
        ({ harness, tokens } = await harnessWithDeclaration({ webhookBackoffSeconds: 0.05, webhookMaxAttempts: 2, webhooksPerPrincipal: 6 }, declaration));
    });

    after(async () => {
        await harness?.stop();
    });

    it('keeps apart the subscriptions of two enterprises whose users have the same name', async () => {
        const namesake = await harness.token({ subject: 'exporter', org: 'EnterprisesMSP', role: 'enterprise', uscc: OTHER_USCC });
        const created = await subscribe('exporter', 'https://erp.example.com/counterfoil');
        expect(created.status, created.text).to.equal(201);
        expect((await harness.request<unknown[]>('GET', '/v1/webhooks', { token: namesake })).body).to.deep.equal([]);
        expect((await harness.request('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: namesake })).status).to.equal(404);
        expect((await harness.request('DELETE', `/v1/webhooks/${created.body.id}`, { token: namesake })).status).to.equal(404);
        expect((await harness.request<{ id: string }[]>('GET', '/v1/webhooks', { token: tokens.get('exporter') })).body.map((hook) => hook.id)).to.deep.equal([created.body.id]);
        expect((await harness.request('DELETE', `/v1/webhooks/${created.body.id}`, { token: tokens.get('exporter') })).status).to.equal(204);
    });

    it('refuses URLs with credentials, and caps the subscriptions one principal holds', async () => {
        const withCredentials = await subscribe('tax', 'https://user:secret@tax.example.cn/hook');
        expect(withCredentials.status).to.equal(400);
        expect(withCredentials.body).to.include({ code: 'INVALID_ARGUMENT', field: 'url' });
        const urls = Array.from({ length: 6 }, (_unused, index) => `https://tax.example.cn/hook/${index}`);
        for (const url of urls) {
            expect((await subscribe('tax', url)).status).to.equal(201);
        }
        const over = await subscribe('tax', 'https://tax.example.cn/hook/7');
        expect(over.status).to.equal(409);
        expect(over.body).to.include({ code: 'FAILED_PRECONDITION' });
        for (const hook of (await harness.request<{ id: string }[]>('GET', '/v1/webhooks', { token: tokens.get('tax') })).body) {
            await harness.request('DELETE', `/v1/webhooks/${hook.id}`, { token: tokens.get('tax') });
        }
    });

    it('delivers to one tenant while another tenant\'s endpoints hang', async () => {
        const slow = await hangingEndpoint();
        const fast = await endpoint(0);
        try {
            for (let index = 0; index < 5; index++) {
                expect((await subscribe('forex', `${slow.url}/${index}`)).status).to.equal(201);
            }
            expect((await subscribe('tax', fast.url)).status).to.equal(201);
            await send('ForexMSP');
            await until(() => slow.open() === 5 || undefined, 'the five slow deliveries to be under way');
            await send('TaxMSP');
            await until(() => fast.received[0], 'the other tenant\'s delivery');
            expect(slow.open(), 'delivered while every slow endpoint still holds its request').to.equal(5);
        } finally {
            await slow.release();
            await fast.close();
            for (const persona of ['forex', 'tax'] as const) {
                for (const hook of (await harness.request<{ id: string }[]>('GET', '/v1/webhooks', { token: tokens.get(persona) })).body) {
                    await harness.request('DELETE', `/v1/webhooks/${hook.id}`, { token: tokens.get(persona) });
                }
            }
        }
    });

    it('logs each attempt\'s status and time, never what the endpoint answered', async () => {
        const server: Server = createServer((_request, response) => {
            response.writeHead(500, { 'X-Internal': 'db=10.0.0.7' }).end('stack trace: password=hunter2');
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
            const created = await subscribe('forex', `http://127.0.0.1:${(server.address() as AddressInfo).port}/broken`);
            await send('ForexMSP');
            const dead = await until(async () => {
                const log = await harness.request<{ status: string; lastStatus: number; lastError: string; lastDurationMs: number }[]>('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: tokens.get('forex') });
                return log.body[0]?.status === 'DEAD' ? log : undefined;
            }, 'the delivery to be dead-lettered');
            expect(dead.body[0]).to.include({ lastStatus: 500, lastError: 'answered 500' });
            expect(dead.body[0]?.lastDurationMs).to.be.a('number');
            expect(dead.text).not.to.match(/hunter2|10\.0\.0\.7|stack trace/);
        } finally {
            await new Promise((resolve) => server.close(() => resolve(undefined)));
        }
    });
});

describe('webhooks, with no private range allowed', function () {
    this.timeout(60_000);
    let harness: GatewayHarness;
    let token: string;

    before(async () => {
        harness = await GatewayHarness.start({ webhookAllowedRanges: [] });
        token = await harness.token(PERSONAS.tax);
    });

    after(async () => {
        await harness?.stop();
    });

    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost:8080/hook', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.5/hook',
        'http://192.168.1.1/hook', 'http://[::1]/hook', 'http://[fd00:ec2::254]/hook', 'http://[::ffff:127.0.0.1]/hook', 'http://0.0.0.0:8080/hook']) {
        it(`refuses to subscribe ${url}`, async () => {
            const answer = await harness.request<{ code: string; field: string; detail: string }>('POST', '/v1/webhooks', { token, body: { url, events: ['*'] } });
            expect(answer.status, answer.text).to.equal(400);
            expect(answer.body).to.include({ code: 'INVALID_ARGUMENT', field: 'url' });
            expect(answer.body.detail).to.match(/may not be reached by webhooks/);
        });
    }
});
