/**
 * `npm run audit -- replay [--to BLOCK | --as-of TIME] [--report FILE.pdf|FILE.json] [--block-store COMETBFT_HOME]`
 *   replays the ledger from block 0 and checks it (hash chain, creators and signatures, validation
 *   codes; at the tip also the live world state and the gateway's query tables), with progress on
 *   standard error. Exits 0 when clean, 3 when it found problems.
 * `npm run audit -- history document TYPE NUMBER | handoff SENDER MESSAGE_ID | case CASE_ID
 *   | verification DECLARATION PERMIT [--to BLOCK | --as-of TIME]`
 *   prints the entity as of that point (JSON), with every change to it.
 *
 * It reads the hub's PostgreSQL: DATABASE_URL, or else the hub's embedded server (started here
 * from COUNTERFOIL_DATA_DIR when the hub is not running). With LEDGER=network it reads the
 * node's database and, from the node's CometBFT RPC, the consensus chain: every commit's
 * signatures and every block executed again from genesis; `--block-store` reads the consensus
 * chain from a copy of a node's CometBFT home (config/genesis.json, data/blockstore.db) instead.
 */
import './chaincode-log-level';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Pool } from 'pg';
import { type AuditReport, auditLedger, auditReportPdf, entityAsOf } from '../gateway/audit/report';
import type { EntityRef } from '../gateway/audit/entities';
import { ConfigError, readGatewayConfig } from '../gateway/config';
import { LedgerStore } from '../network/storage/store';
import { type NetworkLayout, nodeDatabaseUrl, readLayout, rpcUrl } from '../network/cometbft/network';
import { blockStoreSource } from '../network/audit/block-store';
import { type ConsensusSource, rpcConsensusSource } from '../network/audit/consensus';
import { createDatabase, embeddedServerUrl, type PostgresServer, startEmbeddedPostgres } from '../network/postgres';

const USAGE = `usage:
  npm run audit -- replay [--to BLOCK | --as-of TIME] [--report FILE.pdf|FILE.json] [--block-store COMETBFT_HOME]
  npm run audit -- history document TYPE NUMBER | handoff SENDER MESSAGE_ID | case CASE_ID | verification DECLARATION PERMIT [--to BLOCK | --as-of TIME]`;

function fail(message: string): never {
    console.error(`${message}\n${USAGE}`);
    process.exit(2);
}

async function reachable(url: string): Promise<boolean> {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
        await client.connect();
        await client.end();
        return true;
    } catch {
        return false;
    }
}

/**
 * The hub's database (its query tables), the database holding the ledger's blocks and state (the
 * same on the embedded ledger; the node's own with LEDGER=network), and a way to let go of them.
 */
async function database(): Promise<{ pool: Pool; ledgerPool: Pool; consensus?: ConsensusSource; close: () => Promise<void> }> {
    let config;
    try {
        config = readGatewayConfig(process.env);
    } catch (error) {
        fail(error instanceof ConfigError ? error.message : String(error));
    }
    let server: PostgresServer | undefined;
    let url = config.databaseUrl;
    if (!url) {
        const running = await embeddedServerUrl(join(config.dataDir, 'postgres'), config.postgresPort);
        if (!(await reachable(running))) {
            server = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), port: config.postgresPort });
        }
        url = await createDatabase(server?.url ?? running, config.databaseName);
    }
    const pool = new Pool({ connectionString: url, max: 4 });
    if (config.ledger === 'network') {
        const { dir, node } = config.network;
        const layout = await readLayout(dir);
        if (!config.network.databaseUrl && !layout) {
            fail(`there is no network in ${dir}, and COUNTERFOIL_NETWORK_NODE_DATABASE_URL is not set`);
        }
        const ledgerPool = new Pool({ connectionString: config.network.databaseUrl ?? await nodeDatabaseUrl(dir, layout as NetworkLayout, node), max: 4 });
        const rpc = config.network.rpcUrl ?? rpcUrl((layout as NetworkLayout).nodes.find((candidate) => candidate.name === node) ?? fail(`the network in ${dir} has no node ${node}`));
        return { pool, ledgerPool, consensus: rpcConsensusSource(rpc), close: async () => { await ledgerPool.end(); await pool.end(); await server?.stop(); } };
    }
    return { pool, ledgerPool: pool, close: async () => { await pool.end(); await server?.stop(); } };
}

function point(values: { to?: string; 'as-of'?: string }): { toBlock?: number; asOf?: Date } {
    if (values.to !== undefined && values['as-of'] !== undefined) {
        fail('--to and --as-of: give one or the other');
    }
    if (values.to !== undefined) {
        if (!/^\d{1,15}$/.test(values.to)) {
            fail('--to must be a block number');
        }
        return { toBlock: Number(values.to) };
    }
    if (values['as-of'] !== undefined) {
        const asOf = new Date(values['as-of']);
        if (Number.isNaN(asOf.getTime())) {
            fail('--as-of must be a time, e.g. 2026-11-24T08:00:00Z');
        }
        return { asOf };
    }
    return {};
}

function entity(words: readonly string[]): EntityRef {
    const [kind, first, second] = words;
    switch (kind) {
        case 'document': return first && second ? { kind, type: first, number: second } : fail('history document needs TYPE NUMBER');
        case 'handoff': return first && second ? { kind, sender: first, messageId: second } : fail('history handoff needs SENDER MESSAGE_ID');
        case 'case': return first ? { kind, caseId: first } : fail('history case needs CASE_ID');
        case 'verification': return first && second ? { kind, declarationNumber: first, permitNumber: second } : fail('history verification needs DECLARATION PERMIT');
        default: return fail(`history of what? (${kind ?? 'nothing given'})`);
    }
}

/** A progress bar on a terminal; a line every 10 % otherwise. */
function progressBar(): (progress: { blockNumber: number; height: number; transactions: number }) => void {
    let lastTenth = -1;
    return ({ blockNumber, height, transactions }) => {
        const share = height <= 1 ? 1 : (blockNumber + 1) / height;
        if (process.stderr.isTTY) {
            const filled = Math.round(share * 30);
            process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] block ${blockNumber + 1}/${height}, ${transactions} transactions`);
        } else if (Math.floor(share * 10) > lastTenth) {
            lastTenth = Math.floor(share * 10);
            process.stderr.write(`replayed block ${blockNumber + 1} of ${height} (${Math.round(share * 100)} %), ${transactions} transactions\n`);
        }
    };
}

function summary(report: AuditReport): string {
    const found = (label: string, count: number): string => `  ${label}: ${count === 0 ? 'ok' : `${count} problem(s)`}`;
    return [
        `${report.verdict} — blocks 0 to ${report.scope.toBlock}, ${report.transactions.total} transactions (${report.transactions.valid} valid), ${report.transactionsPerSecond} a second`,
        ...(report.consensus ? [found(`consensus (${report.consensus.chainId}: ${report.consensus.commitsVerified} commits of ${report.consensus.heights} heights, `
            + `${report.consensus.transactionsExecuted} transactions executed again, ${report.consensus.appHashesVerified} app hashes)`, report.consensus.problems.length)] : []),
        found('hash chain', report.chain.problems.length),
        found(`creators and signatures (${report.signatures.checked} checked)`, report.signatures.failed),
        found(`validation codes (${report.validationCodes.checked} checked)`, report.validationCodes.problems.length),
        report.worldState.compared ? found('world state', report.worldState.divergences.length) : '  world state: not compared (stopped before the tip)',
        report.queryTables.compared ? found('query tables', report.queryTables.divergences.length) : '  query tables: not compared (stopped before the tip)',
        `  last block hash: ${report.lastBlockHash}`,
        ...(report.consensus ? [`  final app hash: ${report.consensus.finalAppHash}`] : []),
    ].join('\n');
}

async function main(): Promise<void> {
    const { values, positionals } = parseArgs({
        options: { to: { type: 'string' }, 'as-of': { type: 'string' }, report: { type: 'string' }, 'block-store': { type: 'string' } },
        allowPositionals: true, strict: true,
    });
    const [command, ...rest] = positionals;
    if (command !== 'replay' && command !== 'history') {
        fail(`unknown command ${command ?? '(none)'}`);
    }
    const at = point(values);
    if (values.report !== undefined && !/\.(pdf|json)$/i.test(values.report)) {
        fail('--report must name a .pdf or .json file');
    }
    const ref = command === 'history' ? entity(rest) : undefined;
    const { pool, ledgerPool, consensus: fromNode, close } = await database();
    const copy = values['block-store'] !== undefined ? await blockStoreSource(values['block-store']).catch((error: Error) => fail(error.message)) : undefined;
    if (copy && !fromNode) {
        await copy.close();
        fail('--block-store is for a network ledger (LEDGER=network)');
    }
    const consensus = copy ?? fromNode;
    try {
        const store = new LedgerStore(ledgerPool, 'counterfoil');
        if (ref) {
            process.stdout.write(`${JSON.stringify(await entityAsOf(store, ref, at), null, 2)}\n`);
            return;
        }
        const report = await auditLedger(store, pool, { ...at, consensus, onProgress: progressBar() });
        if (process.stderr.isTTY) {
            process.stderr.write('\n');
        }
        console.log(summary(report));
        if (values.report) {
            await writeFile(values.report, /\.pdf$/i.test(values.report) ? await auditReportPdf(report) : `${JSON.stringify(report, null, 2)}\n`);
            console.log(`report written to ${values.report}`);
        }
        process.exitCode = report.verdict === 'CLEAN' ? 0 : 3;
    } finally {
        await copy?.close();
        await close();
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
