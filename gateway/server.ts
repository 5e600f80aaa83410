import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Pool } from 'pg';
import pino, { type Logger } from 'pino';
import { migrate } from '../network/postgres';
import { createApp } from './app';
import { EnrolledIdentityProvider } from './auth/identities';
import { TokenService } from './auth/tokens';
import { Indexer } from './indexer/indexer';
import { conflictRetry, DEFAULT_CONFLICT_RETRY, type PartyLedger } from '../network/ledger';
import { GATEWAY_MIGRATIONS } from './indexer/migrations';
import type { Api } from './openapi/api';
import { StatementSigner } from './pdf/statement';
import { proofRoutes } from './routes/proofs';
import { AuditService, auditRoutes, auditSchema } from './audit/routes';
import { type ImportLimits, ImportService, importSchema } from './imports/imports';
import { importRoutes } from './routes/imports';
import { EmailNotifier, type EmailOptions, emailRoutes, emailSchema } from './notify/email';
import type { GatewayMetrics } from './metrics';
import type { ConsolePersona } from './console/serve';
import type { Services } from './services';

export type GatewayOptions = Readonly<{
    pool: Pool;
    ledger: PartyLedger;
    tokenKeyFile: string;
    /** The longest validity a bearer token may have (default 30 days). */
    tokenMaxLifetimeSeconds?: number;
    /** Tries in all of a transaction that lost a read conflict (default 12). */
    conflictAttempts?: number;
    /** PKCS #8 PEM file of the key that signs PDF statements, created on first use. */
    proofKeyFile: string;
    port: number;
    host: string;
    bodyLimitBytes?: number;
    rateLimitPerMinute?: number;
    logger?: Logger;
    /** Mounts routes that need the running services (events, webhooks, proofs), and their metrics. */
    extraRoutes?: (api: Api, services: Services, metrics: GatewayMetrics) => void;
    /** Personas the console offers to sign in as (while simulated agencies run). */
    consolePersonas?: (tokens: TokenService) => Promise<ConsolePersona[]>;
    /** E-mail notifications: the SMTP server, the console's public address, the digest window (none sent without an SMTP URL). */
    email?: EmailOptions;
    /** The largest import file, and the most rows one reads (defaults: 50 MB, 200,000 rows). */
    importLimits?: ImportLimits;
    /** Background workers started with the gateway and stopped before the ledger closes. */
    workers?: (services: Services) => { stop(): Promise<void> }[];
}>;

export interface RunningGateway {
    readonly url: string;
    readonly services: Services;
    readonly api: Api;
    /** Stops accepting connections, finishes requests in flight, stops the indexer. */
    stop(): Promise<void>;
}

/** Starts the gateway's HTTP server, its indexer and workers over an open ledger and pool. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
    const logger = options.logger ?? pino({ level: 'silent' });
    await migrate(options.pool, 'gateway', GATEWAY_MIGRATIONS);
    await migrate(options.pool, 'audit', auditSchema);
    await migrate(options.pool, 'imports', importSchema);
    await migrate(options.pool, 'notifications', emailSchema);
    const tokens = await TokenService.open(options.tokenKeyFile, Date.now, options.tokenMaxLifetimeSeconds);
    const signer = await StatementSigner.open(options.proofKeyFile);
    const identities = new EnrolledIdentityProvider(options.ledger.enrolment, options.pool);
    await identities.sealStored();
    const indexer = new Indexer(options.ledger, options.pool, (error) => logger.error({ err: error }, 'indexer failed; retrying'));
    const services: Services = {
        ledger: options.ledger, pool: options.pool, identities, indexer, tokens,
        conflictRetry: options.conflictAttempts === undefined ? DEFAULT_CONFLICT_RETRY : conflictRetry(options.conflictAttempts),
    };
    await indexer.start();
    const audits = new AuditService(options.ledger.history, options.pool, logger, options.ledger.consensusSource?.());
    await audits.recover();
    const email = new EmailNotifier(options.pool, logger, options.email ?? {});
    const stopNudging = indexer.onIndexed(() => email.nudge());
    const imports = new ImportService(services, logger, options.importLimits);
    await imports.recover();
    imports.start();
    const workers = options.workers?.(services) ?? [];
    const { app, api } = createApp({
        services, logger,
        bodyLimitBytes: options.bodyLimitBytes ?? 2 * 1024 * 1024,
        rateLimitPerMinute: options.rateLimitPerMinute ?? 6000,
        consolePersonas: options.consolePersonas ? () => (options.consolePersonas as (tokens: TokenService) => Promise<ConsolePersona[]>)(tokens) : undefined,
        extraRoutes: (routes, metrics) => {
            routes.add(...proofRoutes(services, signer), ...auditRoutes(audits, options.ledger.history), ...importRoutes(imports), ...emailRoutes(options.pool, email));
            options.extraRoutes?.(routes, services, metrics);
        },
    });
    const server: Server = createServer(app);
    const sockets = new Set<Socket>();
    server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const url = `http://${options.host}:${address.port}`;
    email.start(url);
    let stopping: Promise<void> | undefined;
    return {
        url, services, api,
        stop: () => {
            stopping ??= (async () => {
                const closed = new Promise<void>((resolve) => server.close(() => resolve()));
                // Long-lived streams (server-sent events) are told to go; requests in flight get 10 s,
                // and each keep-alive connection is closed as soon as its last answer is sent.
                server.emit('draining');
                server.closeIdleConnections();
                const sweep = setInterval(() => server.closeIdleConnections(), 50);
                const deadline = setTimeout(() => { for (const socket of sockets) { socket.destroy(); } }, 10_000);
                await closed;
                clearInterval(sweep);
                clearTimeout(deadline);
                stopNudging();
                for (const worker of [...workers, imports, email]) {
                    await worker.stop();
                }
                await indexer.stop();
            })();
            return stopping;
        },
    };
}
