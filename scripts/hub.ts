import { join } from 'node:path';
import { Pool } from 'pg';
import pino, { type Logger } from 'pino';
import { AdapterConfigError, AdapterHost, readAdapterConfig } from '../adapters';
import { SIMULATED_DEADLINES, SimulatedAgencies } from '../adapters/simulators/demo';
import type { Principal } from '../gateway/auth/principal';
import type { TokenService } from '../gateway/auth/tokens';
import type { ConsolePersona } from '../gateway/console/serve';
import { Reconciler, reconcilerFor, reconciliationRoutes } from '../adapters/reconciliation';
import { ConfigError, type GatewayConfig, readGatewayConfig } from '../gateway/config';
import { pushRoutes, pushWorkers, WebhookAddressPolicy, type WebhookSettings } from '../gateway/push';
import { conflictRetry, type PartyLedger } from '../network/ledger';
import { NetworkLedger } from '../network/cometbft/ledger';
import { type NetworkLayout, type NetworkNode, everyOrganisationEnrolment, nodeDatabaseUrl, nodeEnrolment, nodePrivateDataClient, readLayout, rpcUrl } from '../network/cometbft/network';
import { startGateway } from '../gateway/server';
import type { Services } from '../gateway/services';
import { EmbeddedLedger } from '../network/embedded';
import { KeySealer } from '../network/membership';
import { createDatabase, type PostgresServer, startEmbeddedPostgres } from '../network/postgres';

/**
 * Runs the hub: PostgreSQL (embedded unless DATABASE_URL names one), the embedded ledger (its
 * hash chain verified from block 0 on start), and the gateway with its indexer and webhook
 * dispatcher. SIGINT or SIGTERM stops every part in order.
 */
/** The people the console offers while simulated agencies run, each with a token for a working day. */
async function demoPersonas(tokens: TokenService, simulated: SimulatedAgencies, organisations: readonly string[]): Promise<ConsolePersona[]> {
    const { exporter } = simulated;
    const people: [string, Principal][] = [
        ['Customs officer · 海关关员', { subject: 'officer-2201', org: 'CustomsMSP', role: 'operator' }],
        ['Hub administrator · 枢纽管理员', { subject: 'hub-admin', org: 'CustomsMSP', role: 'admin' }],
        ['Tax refund desk · 税务退税', { subject: 'refund-desk', org: 'TaxMSP', role: 'operator' }],
        ['Forex receipts desk · 外汇核销', { subject: 'receipts-desk', org: 'ForexMSP', role: 'operator' }],
        ['Licensing officer · 商务发证', { subject: 'licensing-officer', org: 'CommerceMSP', role: 'operator' }],
        [`Exporter · ${exporter.name}`, { subject: 'exporter', org: 'EnterprisesMSP', role: 'enterprise', uscc: exporter.uscc }],
        ['Auditor · 审计员', { subject: 'auditor', org: 'CustomsMSP', role: 'auditor' }],
    ];
    return Promise.all(people.filter(([, principal]) => organisations.includes(principal.org)).map(async ([label, principal]) => ({ label, token: await tokens.issue(principal, { expiresInSeconds: 8 * 3600 }) })));
}

/** The embedded ledger in the hub's database, or a connection to a CometBFT network through one of its nodes. */
async function openLedger(config: GatewayConfig, pool: Pool, logger: Logger): Promise<PartyLedger> {
    if (config.ledger === 'embedded') {
        return EmbeddedLedger.open({ pool, keys: await KeySealer.open(config.keyEncryptionKeyFile) });
    }
    const { dir, node: name } = config.network;
    const layout = await readLayout(dir);
    if (!layout && !(config.network.rpcUrl && config.network.databaseUrl)) {
        throw new Error(`there is no network in ${dir}: run npm run network -- up first (or set COUNTERFOIL_NETWORK_DIR)`);
    }
    const node = layout?.nodes.find((candidate) => candidate.name === name);
    if (layout && !node) {
        throw new Error(`the network in ${dir} has no node ${name} (COUNTERFOIL_NETWORK_NODE); it has ${layout.nodes.map((candidate) => candidate.name).join(', ')}`);
    }
    const nodePool = new Pool({ connectionString: config.network.databaseUrl ?? await nodeDatabaseUrl(dir, layout as NetworkLayout, name), max: 20 });
    const ledger = await NetworkLedger.open({
        pool: nodePool, rpcUrl: config.network.rpcUrl ?? rpcUrl(node as NetworkNode), enrolment: config.network.actFor === 'every' ? await everyOrganisationEnrolment(dir, layout as NetworkLayout) : await nodeEnrolment(dir, name),
        commitTimeoutMs: config.network.commitTimeoutMs, rebroadcastMs: config.network.rebroadcastMs, ownsPool: true,
        privateData: await nodePrivateDataClient(dir, name),
    });
    if (config.network.actFor === 'every') {
        logger.warn('COUNTERFOIL_NETWORK_ACT_FOR=every: this hub holds every organisation\'s authority key and acts for every agency (a one-machine demonstration, not an agency\'s gateway)');
    }
    logger.info({ node: name, rpc: config.network.rpcUrl ?? rpcUrl(node as NetworkNode), chainId: ledger.configuration.consensus.chainId }, 'connected to the CometBFT network');
    return ledger;
}

export async function runHub(options: Readonly<{ welcome: boolean; simulators?: boolean }>): Promise<void> {
    let config;
    try {
        config = readGatewayConfig(process.env);
    } catch (error) {
        console.error(error instanceof ConfigError ? error.message : error);
        process.exit(1);
    }
    const logger = pino({ level: config.logLevel });
    let adapterConfigs;
    try {
        adapterConfigs = config.adaptersFile ? await readAdapterConfig(config.adaptersFile) : [];
    } catch (error) {
        console.error(error instanceof AdapterConfigError ? error.message : error);
        process.exit(1);
    }
    let server: PostgresServer | undefined;
    if (!config.databaseUrl) {
        server = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), port: config.postgresPort });
        if (server.stoppedLeftOver !== undefined) {
            logger.warn({ pid: server.stoppedLeftOver }, 'stopped the PostgreSQL server an earlier hub left running on this data folder (it did not stop cleanly)');
        }
        logger.info({ port: config.postgresPort, dataDir: join(config.dataDir, 'postgres') }, 'PostgreSQL (embedded) started');
    }
    const databaseUrl = config.databaseUrl ?? await createDatabase((server as PostgresServer).url, config.databaseName);
    const pool = new Pool({ connectionString: databaseUrl, max: 30 });
    // An idle connection the server closes (PostgreSQL shutting down) is reported, not thrown;
    // while the hub itself stops, the database closing the last of them is expected.
    let stopping = false;
    pool.on('error', (error) => {
        if (!stopping) {
            logger.warn({ err: error }, 'database connection lost');
        }
    });
    const ledger = await openLedger(config, pool, logger);
    /** Whom this hub acts for: every organisation on the embedded ledger, its own agency's on the network. */
    const organisations = ledger.enrolment.organisations;
    const chain = ledger.integrity();
    if (!chain.verified) {
        logger.error({ problems: chain.problems }, 'the ledger\'s hash chain does not verify: it takes no writes, and /readyz says so, until the stored blocks are restored');
    } else {
        logger.info({ blocks: chain.blocks }, 'ledger hash chain verified from block 0');
    }
    let services: Services | undefined;
    const webhooks: WebhookSettings = { addresses: new WebhookAddressPolicy(config.webhookAllowedRanges), maxPerPrincipal: config.webhooksPerPrincipal };
    const reconciler = await Reconciler.create({
        ledger, pool, logger, conflictRetry: conflictRetry(config.conflictAttempts),
        identity: () => (services as Services).identities.identityFor(reconcilerFor(organisations)), senders: organisations,
        onRun: (report) => logger.info(report, 'reconciliation run'),
    });
    const simulated = options.simulators ? await SimulatedAgencies.start() : undefined;
    const foreign = adapterConfigs.filter((adapter) => !organisations.includes(adapter.organisation));
    if (foreign.length > 0) {
        logger.error({ adapters: foreign.map((adapter) => `${adapter.name} (${adapter.organisation})`), organisations }, 'these adapters act for organisations this hub does not enrol: each runs at its own agency\'s gateway');
        process.exit(1);
    }
    // On the network, an agency's hub runs the simulated systems' adapters of its own organisation only.
    const simulatedAdapters = (simulated?.adapters ?? []).filter((adapter) => organisations.includes(adapter.organisation));
    const adapters = await AdapterHost.inProcess({ configs: [...adapterConfigs, ...simulatedAdapters], ledger, pool, logger, services: () => services as Services });
    if (simulated) {
        await SimulatedAgencies.resetCursors(pool);
    }
    const gateway = await startGateway({
        pool, ledger, logger, tokenKeyFile: config.tokenKeyFile, tokenMaxLifetimeSeconds: config.tokenMaxLifetimeSeconds, conflictAttempts: config.conflictAttempts, proofKeyFile: config.proofKeyFile, port: config.port, host: config.host,
        importLimits: { maxBytes: config.importMaxBytes, maxRows: config.importMaxRows },
        email: { smtpUrl: config.smtpUrl, from: config.emailFrom, digestMs: config.emailDigestSeconds * 1000, publicUrl: config.publicUrl },
        bodyLimitBytes: config.bodyLimitBytes, rateLimitPerMinute: config.rateLimitPerMinute,
        consolePersonas: simulated ? (tokens) => demoPersonas(tokens, simulated, organisations) : undefined,
        extraRoutes: (api, running, metrics) => {
            services = running;
            pushRoutes(api, running, webhooks);
            api.add(...reconciliationRoutes(reconciler, running), ...adapters.routes());
            adapters.registerMetrics(metrics.registry);
        },
        workers: (running) => [...pushWorkers(running, logger, { addresses: webhooks.addresses }), { stop: () => reconciler.stop() }, { stop: () => adapters.stop() }],
    });
    if (simulated && chain.verified) {
        // Deadline policies are customs' to set.
        if (organisations.includes('CustomsMSP')) {
            const admin = await (services as Services).identities.identityFor({ subject: 'hub-admin', org: 'CustomsMSP', role: 'admin' });
            for (const policy of SIMULATED_DEADLINES) {
                await ledger.submit({ identity: admin, contract: 'policies', transaction: 'SetDeadlines', arguments: [JSON.stringify(policy)] });
            }
        }
        simulated.run();
    }
    adapters.start();
    logger.info({ adapters: [...adapters.adapters.keys()] }, 'adapters scheduled');
    if (config.reconciliationSchedule) {
        reconciler.schedule(config.reconciliationSchedule);
    }
    logger.info({ url: gateway.url, docs: `${gateway.url}/docs` }, 'gateway listening');
    if (options.welcome) {
        console.log([
            '',
            `Counterfoil is running. Console: ${gateway.url}/console/   API: ${gateway.url}/docs`,
            simulated
                ? `Five simulated agencies are sending a declaration every 3 s. In the console, sign in as one of: ${(await demoPersonas(gateway.services.tokens, simulated, organisations)).map((persona) => persona.label).join('; ')}.`
                : 'No simulated agencies (--no-simulators): adapters for real agency systems come from COUNTERFOIL_ADAPTERS_FILE.',
            'Or sign in with a token:',
            '  npm run token -- --org CustomsMSP --role operator --sub officer1',
            '  npm run token -- --org EnterprisesMSP --role enterprise --sub exporter --uscc 91350100M000100Y43',
            'Ctrl-C stops it; npm start again continues from the same data.',
            '',
        ].join('\n'));
    }
    const stop = async (signal: string): Promise<void> => {
        if (stopping) {
            return;
        }
        stopping = true;
        logger.info({ signal }, 'stopping');
        // Requests in flight finish, then the workers, the ledger and the pool stop, and the database
        // last (it runs in a process group of its own, so a terminal's Ctrl-C reaches only the
        // hub); each step goes on even if the one before it failed.
        for (const step of [async () => simulated?.stop(), () => gateway.stop(), () => ledger.close(), () => pool.end(), async () => server?.stop()]) {
            await step().catch((error: unknown) => logger.warn({ err: error }, 'while stopping'));
        }
        process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
}
