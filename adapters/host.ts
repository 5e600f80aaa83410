import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Principal } from '../gateway/auth/principal';
import type { Ledger } from '../network/ledger';
import { Problem } from '../gateway/http/problem';
import type { RouteSpec } from '../gateway/openapi/api';
import type { Services } from '../gateway/services';
import { migrate } from '../network/postgres';
import { Adapter, adapterHealth, type AdapterHealth } from './adapter';
import type { AdapterConfig } from './config';
import { directLedgerClient, type LedgerClient } from './ledger-client';
import { adapterHealthSchema, adapterSchema, agencyRecordsSchema, deliveryExhaustionSchema, waitingFilesSchema } from './migrations';
import { FileDropTransport } from './transports/file-drop';
import { HttpFeedTransport } from './transports/http-feed';

/** The principal an adapter acts as on the ledger: an operator of its agency. */
export function adapterPrincipal(config: AdapterConfig): Principal {
    return { subject: `adapter-${config.name}`, org: config.organisation, role: 'operator' };
}

/** The hub's adapters: built from the configuration, scheduled, inspected and triggered through the API. */
export class AdapterHost {
    private constructor(readonly adapters: ReadonlyMap<string, Adapter>, private readonly pool: Pool) {}

    /** `ledgerFor` gives each adapter its way to the ledger: in-process, or through the gateway. */
    static async create(options: Readonly<{ configs: readonly AdapterConfig[]; pool: Pool; logger: Logger; ledgerFor: (config: AdapterConfig) => LedgerClient }>): Promise<AdapterHost> {
        await migrate(options.pool, 'adapters', [adapterSchema, agencyRecordsSchema, adapterHealthSchema, deliveryExhaustionSchema, waitingFilesSchema]);
        for (const config of options.configs) {
            await options.pool.query(
                `INSERT INTO adapter_health (adapter, organisation, mode) VALUES ($1::text, $2::text, $3::text)
                 ON CONFLICT (adapter) DO UPDATE SET organisation = EXCLUDED.organisation, mode = EXCLUDED.mode`,
                [config.name, config.organisation, config.mode]);
        }
        const adapters = new Map(options.configs.map((config) => [config.name, new Adapter(
            config, config.transport === 'file-drop' ? new FileDropTransport({ folder: config.folder as string, maxFileBytes: config.maxFileBytes }) : new HttpFeedTransport(config.system as string),
            options.ledgerFor(config), options.pool, options.logger,
        )]));
        return new AdapterHost(adapters, options.pool);
    }

    /** Adapters in the hub's own process, each acting as its agency's adapter identity. */
    static inProcess(options: Readonly<{ configs: readonly AdapterConfig[]; ledger: Ledger; pool: Pool; logger: Logger; services: () => Services }>): Promise<AdapterHost> {
        return AdapterHost.create({
            configs: options.configs, pool: options.pool, logger: options.logger,
            ledgerFor: (config) => directLedgerClient(options.ledger, () => options.services().identities.identityFor(adapterPrincipal(config)), () => options.services().conflictRetry),
        });
    }

    start(): void {
        for (const adapter of this.adapters.values()) {
            adapter.start();
        }
    }

    async stop(): Promise<void> {
        await Promise.all([...this.adapters.values()].map((adapter) => adapter.stop()));
    }

    /**
     * Prometheus gauges of every adapter's health (`counterfoil_adapter_*{adapter="…"}`), read from
     * the database when scraped, so adapters running beside the hub are there too.
     */
    registerMetrics(registry: Registry): void {
        const gauge = (name: string, help: string, value: (health: AdapterHealth) => number | null): void => {
            const pool = this.pool;
            new Gauge({
                name: `counterfoil_adapter_${name}`, help, labelNames: ['adapter', 'organisation'], registers: [registry],
                async collect() {
                    this.reset();
                    for (const health of await adapterHealth(pool)) {
                        const current = value(health);
                        if (current !== null) {
                            this.set({ adapter: health.name, organisation: health.organisation }, current);
                        }
                    }
                },
            });
        };
        gauge('lag_seconds', 'Seconds since the adapter last read its agency\'s feeds through', (health) => health.lagSeconds);
        gauge('errors', 'Failed runs since the adapter was first configured', (health) => health.errors);
        gauge('consecutive_failures', 'Failed runs since the last one that went through', (health) => health.consecutiveFailures);
        gauge('quarantined_records', 'Records the adapter set aside for good, with the reason', (health) => health.quarantined);
        gauge('parked_records', 'Records waiting for the handoff or document they name to reach the ledger', (health) => health.parked);
        gauge('waiting_files', 'Files the agency dropped that the adapter has not read yet, as of its last run (file-drop)', (health) => health.waiting);
    }

    routes(): RouteSpec[] {
        const health = {
            type: 'object', additionalProperties: false,
            required: ['name', 'organisation', 'mode', 'lastAttemptAt', 'lastSuccessAt', 'lagSeconds', 'lastError', 'consecutiveFailures', 'errors', 'quarantined', 'parked', 'waiting'],
            properties: {
                name: { type: 'string' }, organisation: { type: 'string' }, mode: { type: 'string' },
                lastAttemptAt: { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] }, lastSuccessAt: { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
                lagSeconds: { oneOf: [{ type: 'integer' }, { type: 'null' }] }, lastError: { oneOf: [{ type: 'string' }, { type: 'null' }] },
                consecutiveFailures: { type: 'integer' }, errors: { type: 'integer' }, quarantined: { type: 'integer' },
                parked: { type: 'integer', description: 'records waiting for the handoff or document they name to reach the ledger' },
                waiting: { oneOf: [{ type: 'integer' }, { type: 'null' }], description: 'files the agency dropped that the adapter has not read yet, as of its last run (file-drop; null for feeds)' },
            },
        };
        return [
            {
                method: 'get', path: '/v1/adapters', tag: 'Adapters',
                summary: 'Health of every agency adapter, in the hub\'s process or beside it: last poll, lag, errors, quarantined and parked records',
                responses: { 200: { description: 'One entry per adapter', schema: { type: 'array', items: health } } },
                handler: async ({ principal }) => {
                    if (principal.uscc) {
                        throw new Problem('FORBIDDEN', 'adapter health is for agencies and auditors', 'authorization');
                    }
                    return { status: 200, body: await adapterHealth(this.pool) };
                },
            },
            {
                method: 'post', path: '/v1/adapters/{name}/runs', tag: 'Adapters', params: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' } },
                summary: 'Run one adapter now (its agency\'s admins, or the customs admin who runs the hub)',
                responses: {
                    200: {
                        description: 'What the run did', schema: {
                            type: 'object', additionalProperties: false, required: ['recorded', 'delivered', 'confirmed', 'retransmitted', 'quarantined', 'parked'],
                            properties: { recorded: { type: 'integer' }, delivered: { type: 'integer' }, confirmed: { type: 'integer' }, retransmitted: { type: 'integer' }, quarantined: { type: 'integer' }, parked: { type: 'integer' } },
                        },
                    },
                },
                handler: async ({ principal, params }) => {
                    const adapter = this.adapters.get(params.name as string);
                    if (!adapter) {
                        throw new Problem('NOT_FOUND', `no adapter ${params.name} runs in the hub's process`, 'name');
                    }
                    if (principal.role !== 'admin' || (principal.org !== adapter.config.organisation && principal.org !== 'CustomsMSP')) {
                        throw new Problem('FORBIDDEN', `only admins of ${adapter.config.organisation} or of the hub may run this adapter`, 'authorization');
                    }
                    try {
                        return { status: 200, body: await adapter.run() };
                    } catch (error) {
                        throw new Problem('UNAVAILABLE', `the run failed: ${(error as Error).message}`, 'system');
                    }
                },
            },
        ];
    }
}
