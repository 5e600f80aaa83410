import './chaincode-log-level';
import { Pool } from 'pg';
import { AbciServer } from '../network/cometbft/abci-server';
import { CounterfoilApplication } from '../network/cometbft/application';

/**
 * A network node's Counterfoil process: the ABCI application its cometbft process connects to,
 * executing every block into this node's own PostgreSQL database.
 *   COUNTERFOIL_NODE_DATABASE_URL=<url> node dist/scripts/node.js --abci tcp://127.0.0.1:<port>
 */
function argument(name: string): string {
    const at = process.argv.indexOf(`--${name}`);
    const value = at >= 0 ? process.argv[at + 1] : undefined;
    if (!value) {
        throw new Error(`--${name} is required`);
    }
    return value;
}

const log = (message: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${message}\n`);
};

async function main(): Promise<void> {
    const database = process.env.COUNTERFOIL_NODE_DATABASE_URL;
    if (!database) {
        throw new Error('COUNTERFOIL_NODE_DATABASE_URL (the node\'s own database) is required');
    }
    const pool = new Pool({ connectionString: database, max: 10 });
    const application = await CounterfoilApplication.open({ pool, log });
    const consensus = new Set(['initChain', 'finalizeBlock', 'commit']);
    const server = await AbciServer.listen(argument('abci'), async (request) => {
        try {
            return await application.handle(request);
        } catch (error) {
            if (Object.keys(request).some((kind) => consensus.has(kind) && request[kind as keyof typeof request] !== undefined)) {
                // A node that cannot execute or persist a block must not go on: it stops, and on its
                // restart CometBFT replays the blocks it lacks.
                log(`stopping: ${(error as Error).stack ?? String(error)}`);
                setImmediate(() => process.exit(1));
            }
            throw error;
        }
    }, (error) => log(`ABCI connection: ${error.message}`));
    log(`ABCI application listening on ${argument('abci')}`);
    const stop = async (): Promise<void> => {
        await server.close();
        await application.close();
        await pool.end();
        process.exit(0);
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
}

main().catch((error: Error) => {
    log(`node failed to start: ${error.stack ?? error.message}`);
    process.exit(1);
});
