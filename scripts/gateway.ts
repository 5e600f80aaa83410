/**
 * `npm run gateway`: the gateway alone, on the embedded ledger and PostgreSQL (embedded unless
 * DATABASE_URL names one). Stops gracefully on SIGINT/SIGTERM.
 */
import { join } from 'node:path';
import { Pool } from 'pg';
import pino from 'pino';
import { ConfigError, readGatewayConfig } from '../gateway/config';
import { createDatabase, type PostgresServer, startEmbeddedPostgres } from '../network/postgres';

async function main(): Promise<void> {
    const config = readGatewayConfig(process.env);
    process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'WARNING';
    const logger = pino({ level: config.logLevel });
    const { EmbeddedLedger } = await import('../network/embedded/index.js');
    const { startGateway } = await import('../gateway/server.js');
    const { pushRoutes, pushWorkers } = await import('../gateway/push/index.js');
    let server: PostgresServer | undefined;
    if (!config.databaseUrl) {
        server = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), port: config.postgresPort });
    }
    const databaseUrl = config.databaseUrl ?? await createDatabase((server as PostgresServer).url, config.databaseName);
    const pool = new Pool({ connectionString: databaseUrl, max: 30 });
    pool.on('error', (error) => logger.warn({ err: error }, 'database connection lost'));
    const ledger = await EmbeddedLedger.open({ pool });
    const gateway = await startGateway({
        pool, ledger, logger, tokenKeyFile: config.tokenKeyFile, proofKeyFile: config.proofKeyFile, port: config.port, host: config.host,
        bodyLimitBytes: config.bodyLimitBytes, rateLimitPerMinute: config.rateLimitPerMinute,
        extraRoutes: pushRoutes, workers: (services) => pushWorkers(services, logger),
    });
    logger.info({ url: gateway.url, docs: `${gateway.url}/docs` }, 'gateway listening');
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
        if (stopping) {
            return;
        }
        stopping = true;
        logger.info({ signal }, 'stopping');
        for (const step of [() => gateway.stop(), () => ledger.close(), () => pool.end(), async () => server?.stop()]) {
            await step().catch((error: unknown) => logger.warn({ err: error }, 'while stopping'));
        }
        process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
});
