/**
 * The audit benchmark: builds a ledger of that many transactions on the embedded ledger (handoffs
 * sent, received and accepted by concurrent clients, each a signed transaction), indexes it, then
 * verifies its chain, replays it and audits it from block 0, and says how fast each step went.
 */
import type { Pool } from 'pg';
import { usccCheckCharacter } from '@counterfoil/chaincode';
import { auditLedger } from '../../gateway/audit/report';
import { Indexer } from '../../gateway/indexer/indexer';
import { GATEWAY_MIGRATIONS } from '../../gateway/indexer/migrations';
import { replayLedger, verifyChain } from '../../network/audit';
import { EmbeddedLedger } from '../../network/embedded';
import { KeySealer } from '../../network/membership';
import { migrate } from '../../network/postgres';

export interface AuditBenchmark {
    readonly transactions: number;
    readonly blocks: number;
    readonly commitPerSecond: number;
    readonly indexPerSecond: number;
    readonly chainPerSecond: number;
    readonly replayPerSecond: number;
    /** The same replay with every signature checked on the replaying thread (the baseline). */
    readonly replayInThreadPerSecond?: number;
    readonly auditPerSecond: number;
    readonly verdict: string;
}

const secondsSince = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;
const perSecond = (count: number, seconds: number): number => Math.round(count / seconds);

export async function auditBenchmark(pool: Pool, transactions: number, clients: number, log: (line: string) => void): Promise<AuditBenchmark> {
    // The ledger of a benchmark lives as long as its run: its key-encryption key only in memory.
    const ledger = await EmbeddedLedger.open({ pool, keys: KeySealer.ephemeral() });
    try {
        const customs = await ledger.issueIdentity('CustomsMSP', { name: 'bench-customs', attributes: { role: 'operator' } });
        const tax = await ledger.issueIdentity('TaxMSP', { name: 'bench-tax', attributes: { role: 'operator' } });
        const body = '91310000MA1FL0000';
        const subject = body + usccCheckCharacter(body);
        const declaration = '220120269900000001';
        const day = 86_400_000;
        await ledger.submit({
            identity: customs, contract: 'documents', transaction: 'Issue', transient: { content: Buffer.from('bench') },
            arguments: [JSON.stringify({ type: 'EXPORT_DECLARATION', number: declaration, holder: subject, validFrom: new Date(Date.now() - day).toISOString(), validTo: new Date(Date.now() + day).toISOString() })],
        });
        const handoffs = Math.ceil(transactions / 3);
        log(`  building a ledger of ${(handoffs * 3 + 1).toLocaleString('en')} transactions (${handoffs.toLocaleString('en')} handoffs sent, received and accepted; ${clients} clients) …`);
        const built = process.hrtime.bigint();
        let next = 0;
        let done = 0;
        const client = async (): Promise<void> => {
            for (let index = next++; index < handoffs; index = next++) {
                const messageId = `BENCH-${index}`;
                const payloadHash = index.toString(16).padStart(8, '0').repeat(8);
                await ledger.submit({ identity: customs, contract: 'handoffs', transaction: 'Send', arguments: [JSON.stringify({ messageId, recipient: 'TaxMSP', subject, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash, size: 100 })] });
                await ledger.submit({ identity: tax, contract: 'handoffs', transaction: 'RecordReceipt', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId, payloadHash })] });
                await ledger.submit({ identity: tax, contract: 'handoffs', transaction: 'Acknowledge', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId, decision: 'ACCEPTED' })] });
                if (++done % 5000 === 0) {
                    log(`    ${(done * 3).toLocaleString('en')} transactions, ${perSecond(done * 3, secondsSince(built))}/s`);
                }
            }
        };
        await Promise.all(Array.from({ length: clients }, client));
        const buildTime = secondsSince(built);
        const height = Number((await ledger.info()).height);
        const commitPerSecond = perSecond(handoffs * 3, buildTime);
        log(`    committed in ${buildTime.toFixed(1)} s: ${commitPerSecond}/s through the embedded ledger (endorse, sign, validate, commit), ${height} blocks`);

        await migrate(pool, 'gateway', GATEWAY_MIGRATIONS);
        const indexed = process.hrtime.bigint();
        const indexer = new Indexer(ledger, pool);
        await indexer.start();
        await indexer.caughtUp(BigInt(height - 1), 3_600_000);
        const indexPerSecond = perSecond(handoffs * 3, secondsSince(indexed));
        await indexer.stop();
        log(`    indexed: ${indexPerSecond}/s`);

        const chainStarted = process.hrtime.bigint();
        const chain = await verifyChain(ledger.ledgerStore);
        const chainPerSecond = perSecond(chain.transactions, secondsSince(chainStarted));
        log(`    hash chain verified: ${chainPerSecond}/s (${chain.problems.length} problems)`);

        const inThreadStarted = process.hrtime.bigint();
        const inThread = await replayLedger(ledger.ledgerStore, { parallel: false });
        const replayInThreadPerSecond = perSecond(inThread.transactions, secondsSince(inThreadStarted));
        log(`    replayed with every signature and validation code checked, signatures on the replaying thread: ${replayInThreadPerSecond}/s`);
        const replayStarted = process.hrtime.bigint();
        const replay = await replayLedger(ledger.ledgerStore);
        const replayPerSecond = perSecond(replay.transactions, secondsSince(replayStarted));
        log(`    replayed with every signature and validation code checked, signatures in workers: ${replayPerSecond}/s`);

        const audited = process.hrtime.bigint();
        const report = await auditLedger(ledger.ledgerStore, pool);
        const auditPerSecond = perSecond(report.transactions.total, secondsSince(audited));
        log(`    full audit (replay, world state, query tables): ${auditPerSecond}/s — ${report.verdict}, ${report.signatures.checked} signatures`);
        return { transactions: report.transactions.total, blocks: height, commitPerSecond, indexPerSecond, chainPerSecond, replayPerSecond, replayInThreadPerSecond, auditPerSecond, verdict: report.verdict };
    } finally {
        await ledger.close();
    }
}
