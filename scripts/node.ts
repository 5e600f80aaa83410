import './chaincode-log-level';
import { Pool } from 'pg';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AbciServer } from '../network/cometbft/abci-server';
import { CounterfoilApplication, type GenesisAppState } from '../network/cometbft/application';
import { ProposalRules } from '../network/cometbft/transactions';
import { PrivateDataClient, type PrivateDataPeer, PrivateDataReconciler, PrivateDataServer } from '../network/cometbft/private-data';

/**
 * A network node's Counterfoil process: the ABCI application its cometbft process connects to,
 * executing every block into this node's own PostgreSQL database; and the node's end of the
 * private data channel, where the content of the collections its organisation belongs to
 * arrives, and from which it fetches what it missed.
 *   COUNTERFOIL_NODE_DATABASE_URL=<url> node dist/scripts/node.js --abci tcp://127.0.0.1:<port>
 *     --organisation <MSP> --name <node> --node-dir <folder> --private-data 127.0.0.1:<port>
 * The node folder holds cometbft/config/genesis.json, tls/node.{crt,key} and private-data-peers.json.
 */
/** How often a node asks the other members for private data it misses. */
const PRIVATE_DATA_RECONCILE_MS = 2_000;
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
    const organisation = argument('organisation');
    const application = await CounterfoilApplication.open({ pool, organisation, log });
    const nodeDir = argument('node-dir');
    const genesis = JSON.parse(await readFile(join(nodeDir, 'cometbft', 'config', 'genesis.json'), 'utf8')) as { app_state: GenesisAppState };
    const config = genesis.app_state.config;
    const rules = new ProposalRules(config);
    const tls = { certificate: await readFile(join(nodeDir, 'tls', 'node.crt'), 'utf8'), privateKey: await readFile(join(nodeDir, 'tls', 'node.key'), 'utf8') };
    const peers = JSON.parse(await readFile(join(nodeDir, 'private-data-peers.json'), 'utf8')) as PrivateDataPeer[];
    const [host, port] = argument('private-data').split(':');
    const privateServer = await PrivateDataServer.listen({
        pool, namespace: 'counterfoil', organisation, tls, rules, host: host as string, port: Number(port), maxContentBytes: config.consensus.maxTransactionBytes, log,
    });
    const client = new PrivateDataClient(tls, config.organisations.map((entry) => entry.rootCertificate), peers);
    const reconciler = new PrivateDataReconciler({
        pool, namespace: 'counterfoil', self: argument('name'), client, members: rules.members, intervalMs: PRIVATE_DATA_RECONCILE_MS,
        // Content sent ahead of a transaction no block can take any more (twice the timestamp tolerance, and a margin).
        pendingTtlMs: 2 * config.consensus.timestampToleranceMs + 60_000, log,
    });
    reconciler.start();
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
    log(`ABCI application listening on ${argument('abci')}; private data channel on https://${argument('private-data')} for ${organisation}`);
    const stop = async (): Promise<void> => {
        await reconciler.stop();
        client.close();
        await privateServer.close();
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
