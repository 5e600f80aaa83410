import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ErrorObject } from 'ajv';
import { type RunningGateway, startGateway } from '../../gateway';
import type { Principal } from '../../gateway/auth/principal';
import { TokenService } from '../../gateway/auth/tokens';
import { createValidator } from '../../gateway/openapi/api';
import { pushRoutes, pushWorkers, WebhookAddressPolicy } from '../../gateway/push';
import type { ImportLimits } from '../../gateway/imports/imports';
import type { EmailOptions } from '../../gateway/notify/email';
import type { Services } from '../../gateway/services';
import { RECONCILER, Reconciler, reconciliationRoutes } from '../../adapters/reconciliation';
import { type AdapterConfig, AdapterHost } from '../../adapters';
import { EmbeddedLedger } from '../../network/embedded';
import type { PartyLedger } from '../../network/ledger';
import { freshDatabase, type TestDatabase } from '../support/postgres';
import pino from 'pino';
import { type Persona, PERSONAS } from './personas';
import { testKeys } from '../support/keys';

export interface Answer<T = unknown> {
    readonly status: number;
    readonly body: T;
    readonly headers: Headers;
    readonly text: string;
}

/** Which documented (method, path, status) triples the tests exercised, across all suites. */
export const exercised = new Set<string>();

/** A gateway over a fresh database and embedded ledger, and a client that checks every answer against the OpenAPI document. */
export class GatewayHarness {
    private readonly validator = createValidator();

    private constructor(
        readonly database: TestDatabase,
        readonly ledger: PartyLedger,
        /** Whether the harness opened the ledger (and closes it). */
        private readonly ownsLedger: boolean,
        readonly gateway: RunningGateway,
        readonly tokens: TokenService,
        readonly keyDir: string,
        readonly adapters: AdapterHost,
        readonly reconciler: Reconciler,
    ) {}

    static async start(options: Readonly<{
        rateLimitPerMinute?: number; bodyLimitBytes?: number; webhookBackoffSeconds?: number; webhookMaxAttempts?: number; proofKeyFrom?: GatewayHarness;
        adapters?: readonly AdapterConfig[];
        /** Private ranges webhooks may reach: loopback by default, where the tests' endpoints listen. */
        webhookAllowedRanges?: readonly string[]; webhooksPerPrincipal?: number;
        /** A ledger of the test's own (a network node's); by default an embedded ledger in the gateway's database. */
        ledger?: PartyLedger;
        /** The principal reconciliation acts as (default: the hub's, customs'). */
        reconciler?: Principal;
        importLimits?: ImportLimits;
        email?: EmailOptions;
    }> = {}): Promise<GatewayHarness> {
        const database = await freshDatabase('gateway');
        const ledger = options.ledger ?? await EmbeddedLedger.open({ pool: database.pool, keys: await testKeys() });
        const keyDir = await mkdtemp(join(tmpdir(), 'counterfoil-keys-'));
        const tokenKeyFile = join(keyDir, 'token.pem');
        let services: Services | undefined;
        const webhooks = { addresses: new WebhookAddressPolicy(options.webhookAllowedRanges ?? ['127.0.0.0/8']), maxPerPrincipal: options.webhooksPerPrincipal ?? 20 };
        const reconciler = await Reconciler.create({
            ledger, pool: database.pool, logger: pino({ level: 'silent' }), identity: () => (services as Services).identities.identityFor(options.reconciler ?? RECONCILER),
            senders: ledger.enrolment.organisations,
        });
        const adapters = await AdapterHost.inProcess({
            configs: options.adapters ?? [], ledger, pool: database.pool, logger: pino({ level: process.env.COUNTERFOIL_TEST_LOG_LEVEL ?? 'silent' }),
            services: () => services as Services,
        });
        const gateway = await startGateway({
            pool: database.pool, ledger, tokenKeyFile, proofKeyFile: join(options.proofKeyFrom?.keyDir ?? keyDir, 'proof.pem'), port: 0, host: '127.0.0.1', logger: pino({ level: process.env.COUNTERFOIL_TEST_LOG_LEVEL ?? 'silent' }),
            rateLimitPerMinute: options.rateLimitPerMinute, bodyLimitBytes: options.bodyLimitBytes, importLimits: options.importLimits, email: options.email,
            extraRoutes: (api, running, metrics) => {
                services = running;
                pushRoutes(api, running, webhooks);
                api.add(...reconciliationRoutes(reconciler, running), ...adapters.routes());
                adapters.registerMetrics(metrics.registry);
            },
            workers: (running) => [...pushWorkers(running, pino({ level: 'silent' }), {
                idleMs: 50, addresses: webhooks.addresses, timeoutMs: 5000, backoffBaseSeconds: options.webhookBackoffSeconds ?? 0.05, maxAttempts: options.webhookMaxAttempts ?? 4,
            }), { stop: () => reconciler.stop() }, { stop: () => adapters.stop() }],
        });
        return new GatewayHarness(database, ledger, options.ledger === undefined, gateway, await TokenService.open(tokenKeyFile), keyDir, adapters, reconciler);
    }

    get url(): string {
        return this.gateway.url;
    }

    token(principal: Principal, options?: Parameters<TokenService['issue']>[1]): Promise<string> {
        return this.tokens.issue(principal, options);
    }

    /** A bearer token for every persona of the tests. */
    async personaTokens(): Promise<Map<Persona, string>> {
        const tokens = new Map<Persona, string>();
        for (const [name, principal] of Object.entries(PERSONAS)) {
            tokens.set(name as Persona, await this.token(principal));
        }
        return tokens;
    }

    async request<T = unknown>(method: string, path: string, options: Readonly<{ token?: string; body?: unknown; rawBody?: string | Uint8Array; headers?: Record<string, string> }> = {}): Promise<Answer<T>> {
        const headers: Record<string, string> = { ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}), ...options.headers };
        let body: string | Uint8Array | undefined = options.rawBody;
        if (options.body !== undefined) {
            body = JSON.stringify(options.body);
            headers['Content-Type'] ??= 'application/json';
        }
        const response = await fetch(`${this.url}${path}`, { method, headers, body: body as string | undefined });
        const text = await response.text();
        const type = response.headers.get('content-type') ?? '';
        const parsed = type.includes('json') && text ? JSON.parse(text) as T : text as unknown as T;
        this.checkAgainstContract(method, path, response.status, type, parsed);
        return { status: response.status, body: parsed, headers: response.headers, text };
    }

    /** Every answer must be one the OpenAPI document describes, with a body its schema accepts. */
    checkAgainstContract(method: string, path: string, status: number, contentType: string, body: unknown): void {
        const pathname = path.split('?')[0] as string;
        const route = this.gateway.api.all.find((candidate) => candidate.method === method.toLowerCase()
            && new RegExp(`^${candidate.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname));
        if (!route) {
            const methods = this.gateway.api.methodsOf(pathname);
            expect(status, `${method} ${path} is not documented, so it must be a 404 or 405 problem`).to.equal(methods.length > 0 ? 405 : 404);
            expect(contentType).to.contain('application/problem+json');
            return;
        }
        const document = this.gateway.api.document({ title: '', version: '', description: '' }) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };
        const operation = document.paths[route.path]?.[route.method];
        const response = operation?.responses[String(status)];
        expect(response, `${method} ${route.path} answered ${status}, which its OpenAPI operation does not list`).to.not.equal(undefined);
        exercised.add(`${route.method.toUpperCase()} ${route.path} ${status}`);
        const documented = Object.keys(response?.content ?? {});
        if (documented.length === 0) {
            return;
        }
        const mediaType = contentType.split(';')[0] as string;
        expect(documented, `${method} ${route.path} ${status} content type`).to.include(mediaType);
        const content = response?.content?.[mediaType] as { schema: object };
        if (mediaType.includes('json')) {
            // Refs in the document point into its components, which the validator knows as "counterfoil".
            const schema = JSON.parse(JSON.stringify(content.schema).replace(/"#\/components\/schemas\//g, '"counterfoil#/components/schemas/')) as object;
            const valid = this.validator.validate(schema, body);
            const errors = (this.validator.errors ?? []) as ErrorObject[];
            expect(valid, `${method} ${route.path} ${status} body breaks its schema: ${JSON.stringify(errors.slice(0, 3))}\n${JSON.stringify(body).slice(0, 500)}`).to.equal(true);
        }
    }

    /** Changes whenever the ledger or the gateway's tables change. */
    async fingerprint(): Promise<string> {
        const info = await this.ledger.info();
        const counts = await this.database.pool.query<{ counts: string }>(
            `SELECT concat_ws(',', (SELECT count(*) FROM documents), (SELECT count(*) FROM handoffs), (SELECT count(*) FROM verifications),
                (SELECT count(*) FROM cases), (SELECT count(*) FROM ledger_events), (SELECT count(*) FROM webhooks), (SELECT max(updated_at) FROM handoffs)) AS counts`);
        return `${info.height}:${info.currentBlockHash}:${counts.rows[0]?.counts ?? ''}`;
    }

    async stop(): Promise<void> {
        await this.gateway.stop();
        if (this.ownsLedger) {
            await this.ledger.close();
        }
        await this.database.drop();
        await rm(this.keyDir, { recursive: true, force: true });
    }
}
