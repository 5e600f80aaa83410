/**
 * `npm run bench -- audit [--transactions 100000] [--clients 32]`
 *   builds a ledger of that many transactions on the embedded ledger (handoffs sent, received and
 *   accepted by concurrent clients, each a signed transaction), indexes it, then replays and
 *   audits it from block 0, and prints how fast each step went.
 *
 * Runs on a PostgreSQL server of its own (embedded, in a temporary folder) unless DATABASE_URL
 * names one; its database is dropped afterwards.
 */
import './chaincode-log-level';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { usccCheckCharacter } from '@counterfoil/chaincode';
import { auditLedger } from '../gateway/audit/report';
import { Indexer } from '../gateway/indexer/indexer';
import { gatewaySchema } from '../gateway/indexer/migrations/001_gateway';
import { EmbeddedLedger, replayLedger, verifyChain } from '../network/embedded';
import { createDatabase, dropDatabase, migrate, type PostgresServer, startEmbeddedPostgres } from '../network/postgres';

const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;
const rate = (count: number, time: number): string => `${Math.round(count / time).toLocaleString('en')}/s`;

async function freePort(): Promise<number> {
    const { createServer } = await import('node:net');
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address() as { port: number };
            server.close(() => resolve(port));
        });
    });
}

async function auditBenchmark(transactions: number, clients: number): Promise<void> {
    let folder: string | undefined;
    let server: PostgresServer | undefined;
    let serverUrl = process.env.DATABASE_URL;
    if (!serverUrl) {
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-bench-'));
        await chmod(folder, 0o755);
        server = await startEmbeddedPostgres({ dataDir: join(folder, 'data'), port: await freePort() });
        serverUrl = server.url;
    }
    const name = `bench_audit_${process.pid}`;
    const pool = new Pool({ connectionString: await createDatabase(serverUrl, name), max: clients + 8 });
    try {
        const ledger = await EmbeddedLedger.open({ pool });
        const customs = await ledger.issueIdentity('CustomsMSP', { name: 'bench-customs', attributes: { role: 'operator' } });
        const tax = await ledger.issueIdentity('TaxMSP', { name: 'bench-tax', attributes: { role: 'operator' } });
        const body = `91310000${'MA1FL0000'}`;
        const subject = body + usccCheckCharacter(body);
        const declaration = '220120269900000001';
        const day = 86_400_000;
        await ledger.submit({
            identity: customs, contract: 'documents', transaction: 'Issue', transient: { content: Buffer.from('bench') },
            arguments: [JSON.stringify({ type: 'EXPORT_DECLARATION', number: declaration, holder: subject, validFrom: new Date(Date.now() - day).toISOString(), validTo: new Date(Date.now() + day).toISOString() })],
        });
        const handoffs = Math.ceil(transactions / 3);
        console.log(`building a ledger of ${(handoffs * 3 + 1).toLocaleString('en')} transactions (${handoffs.toLocaleString('en')} handoffs sent, received and accepted; ${clients} clients) …`);
        const built = process.hrtime.bigint();
        let next = 0;
        let done = 0;
        const client = async (): Promise<void> => {
            for (let index = next++; index < handoffs; index = next++) {
                const messageId = `BENCH-${index}`;
                const payloadHash = (index.toString(16).padStart(8, '0')).repeat(8);
                await ledger.submit({ identity: customs, contract: 'handoffs', transaction: 'Send', arguments: [JSON.stringify({ messageId, recipient: 'TaxMSP', subject, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash, size: 100 })] });
                await ledger.submit({ identity: tax, contract: 'handoffs', transaction: 'RecordReceipt', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId, payloadHash })] });
                await ledger.submit({ identity: tax, contract: 'handoffs', transaction: 'Acknowledge', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId, decision: 'ACCEPTED' })] });
                done++;
                if (done % 5000 === 0) {
                    process.stderr.write(`  ${(done * 3).toLocaleString('en')} transactions, ${rate(done * 3, seconds(built))}\n`);
                }
            }
        };
        await Promise.all(Array.from({ length: clients }, client));
        const buildTime = seconds(built);
        const height = Number((await ledger.info()).height);
        console.log(`  committed in ${buildTime.toFixed(1)} s: ${rate(handoffs * 3, buildTime)} through the embedded ledger (endorse, sign, validate, commit), ${height.toLocaleString('en')} blocks`);

        await migrate(pool, 'gateway', [gatewaySchema]);
        const indexed = process.hrtime.bigint();
        const indexer = new Indexer(ledger, pool);
        await indexer.start();
        await indexer.caughtUp(BigInt(height - 1), 3_600_000);
        const indexTime = seconds(indexed);
        await indexer.stop();
        console.log(`  indexed in ${indexTime.toFixed(1)} s: ${rate(handoffs * 3, indexTime)}`);

        const chainStarted = process.hrtime.bigint();
        const chain = await verifyChain(ledger.ledgerStore);
        const chainTime = seconds(chainStarted);
        console.log(`  hash chain verified in ${chainTime.toFixed(1)} s: ${rate(chain.transactions, chainTime)} (${chain.problems.length} problems)`);

        const replayStarted = process.hrtime.bigint();
        const replay = await replayLedger(ledger.ledgerStore);
        const replayTime = seconds(replayStarted);
        console.log(`  replayed with every signature and validation code checked in ${replayTime.toFixed(1)} s: ${rate(replay.transactions, replayTime)}`);

        const audited = process.hrtime.bigint();
        const report = await auditLedger(ledger.ledgerStore, pool);
        const auditTime = seconds(audited);
        console.log(`  full audit (replay, world state, query tables) in ${auditTime.toFixed(1)} s: ${rate(report.transactions.total, auditTime)} — ${report.verdict}, `
            + `${report.signatures.checked.toLocaleString('en')} signatures, ${report.worldState.divergences.length + report.queryTables.divergences.length} divergences`);
        await ledger.close();
    } finally {
        await pool.end();
        await dropDatabase(serverUrl, name).catch(() => undefined);
        await server?.stop();
        if (folder) {
            await rm(folder, { recursive: true, force: true });
        }
    }
}

async function main(): Promise<void> {
    const { values, positionals } = parseArgs({
        options: { transactions: { type: 'string', default: '100000' }, clients: { type: 'string', default: '32' } },
        allowPositionals: true, strict: true,
    });
    const transactions = Number(values.transactions);
    const clients = Number(values.clients);
    if (!Number.isInteger(transactions) || transactions < 3 || !Number.isInteger(clients) || clients < 1 || clients > 256) {
        console.error('--transactions must be a whole number of at least 3, --clients from 1 to 256');
        process.exit(2);
    }
    const [which = 'audit'] = positionals;
    if (which !== 'audit') {
        console.error(`unknown benchmark ${which}; available: audit`);
        process.exit(2);
    }
    await auditBenchmark(transactions, clients);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
