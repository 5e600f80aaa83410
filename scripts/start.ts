/**
 * Starts the hub's ledger core: PostgreSQL (embedded, unless DATABASE_URL names one) and the
 * embedded ledger, verifying the hash chain it finds. Stops cleanly on Ctrl-C.
 */
import { join } from 'node:path';
import { Pool } from 'pg';
import { createDatabase, type PostgresServer, startEmbeddedPostgres } from '../network/postgres';
import { ConfigError, readConfig } from './config';

async function main(): Promise<void> {
    const config = readConfig(process.env);
    // The chaincode libraries read their log level once, when they load: set it first.
    process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'WARNING';
    const { EmbeddedLedger, verifyChain } = await import('../network/embedded/index.js');
    let server: PostgresServer | undefined;
    let serverUrl = config.databaseUrl;
    if (!serverUrl) {
        server = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), port: config.postgresPort });
        serverUrl = server.url;
        console.log(`PostgreSQL (embedded) on 127.0.0.1:${config.postgresPort}, data in ${join(config.dataDir, 'postgres')}`);
    }
    const databaseUrl = config.databaseUrl ?? await createDatabase(serverUrl, config.databaseName);
    const pool = new Pool({ connectionString: databaseUrl, max: 20 });
    // An idle connection the server closes (e.g. PostgreSQL shutting down) is reported here, not thrown.
    pool.on('error', (error) => console.error(`database connection lost: ${error.message}`));
    const ledger = await EmbeddedLedger.open({ pool });
    const chain = await verifyChain(ledger.ledgerStore);
    const info = await ledger.info();
    console.log(`ledger: ${info.height} blocks, ${chain.transactions} transactions, tip ${info.currentBlockHash.slice(0, 16)}…, hash chain ${chain.problems.length === 0 ? 'verified' : `BROKEN at ${chain.problems.map((problem) => problem.blockNumber).join(', ')}`}`);
    console.log('Counterfoil ledger core is running; the REST gateway is not part of this build yet. Ctrl-C stops it.');

    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
        if (stopping) {
            return;
        }
        stopping = true;
        console.log(`${signal}: stopping`);
        // Ctrl-C in a terminal reaches the embedded PostgreSQL too, which then shuts down by
        // itself; each step goes on even if the one before it found the server already gone.
        for (const step of [() => ledger.close(), () => pool.end(), async () => server?.stop()]) {
            await step().catch((error: unknown) => console.error(`while stopping: ${(error as Error).message}`));
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
