import type { Pool } from 'pg';
import { type ConsensusReport, type ConsensusSource, verifyConsensus } from '../../network/audit/consensus';
import { loadChaincode } from '../../network/execution/chaincode-runtime';
import { type Finding, replayLedger, type ReplayProgress, stateDivergences, type StateDivergence, type StoredDivergence } from '../../network/audit';
import type { LedgerHistory } from '../../network/ledger';
import { parseBlockData, stateId, type Version } from '../../network/storage';
import { renderPlain, type Section } from '../pdf/render';
import { type EntityRef, historyOf, indexDivergences, type IndexDivergence, keyOfEntity, ReplayedState, tally, type Tally } from './entities';

/** A state divergence with where its key was last written, as the replay or the stored state has it. */
export interface LocatedStateDivergence extends StateDivergence {
    readonly blockNumber?: number;
    readonly transactionId?: string;
}

/** What the auditor verified of the network's consensus (network ledgers only): the report without the rebuilt state. */
export type ConsensusSection = Omit<ConsensusReport, 'state'>;

export interface AuditReport {
    readonly ledger: { readonly kind: 'embedded' | 'network'; readonly channel: string; readonly chaincode: string; readonly chainId?: string };
    /** The BFT commits, headers and app hashes, from the chain's genesis (network ledgers only). */
    readonly consensus?: ConsensusSection;
    readonly scope: { readonly fromBlock: 0; readonly toBlock: number; readonly asOf: string | null; readonly reachedTip: boolean; readonly lastTransactionAt: string | null };
    readonly generatedAt: string;
    readonly blocks: number;
    readonly transactions: { readonly total: number; readonly valid: number; readonly invalid: number; readonly byCode: Readonly<Record<string, number>> };
    readonly chain: { readonly verified: boolean; readonly problems: readonly Finding[] };
    readonly signatures: { readonly checked: number; readonly failed: number; readonly problems: readonly Finding[] };
    readonly validationCodes: { readonly checked: number; readonly problems: readonly Finding[] };
    /** Live world state against the replay (only when the replay reached the tip). */
    readonly worldState: { readonly compared: boolean; readonly divergences: readonly LocatedStateDivergence[] };
    /** The gateway's query tables against the replay (only when the replay reached the tip). */
    readonly queryTables: { readonly compared: boolean; readonly divergences: readonly IndexDivergence[] };
    readonly records: Tally;
    /** Hash of the last block checked: two auditors whose reports show the same hash saw the same ledger. */
    readonly lastBlockHash: string;
    readonly verdict: 'CLEAN' | 'PROBLEMS';
    readonly durationMs: number;
    readonly transactionsPerSecond: number;
}

export type AuditOptions = Readonly<{
    toBlock?: number;
    asOf?: Date;
    onProgress?: (progress: ReplayProgress) => void;
    /** Rows read at a time from the world state and the query tables while comparing (5,000). */
    pageSize?: number;
    /** On a network: where its consensus chain is read (a node's CometBFT RPC), to verify every commit and execute every block again. */
    consensus?: ConsensusSource;
    /** How long the comparison of the query tables waits for the indexer to reach the replayed tip (30 s). */
    indexerWaitMs?: number;
}>;

/** At most this many divergences are located (block and transaction) one by one. */
const LOCATE_LIMIT = 200;

/** How long the comparison of the query tables waits for the indexer to reach the replayed tip. */
const INDEXER_WAIT_MS = 30_000;

/**
 * Waits until the indexer's checkpoint reaches a block, or the time is up (then the comparison
 * shows how far behind the tables are, as divergences). Without a checkpoint (no indexer has run
 * on this database) there is nothing to wait for.
 */
async function indexedTo(pool: Pool, blockNumber: number, waitMs: number): Promise<void> {
    const until = Date.now() + waitMs;
    for (;;) {
        const result = await pool.query<{ block_number: string }>("SELECT block_number FROM indexer_checkpoint WHERE name = 'ledger'").catch(() => undefined);
        const checkpoint = result?.rows[0]?.block_number;
        if (checkpoint === undefined || Number(checkpoint) >= blockNumber || Date.now() >= until) {
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/**
 * The writes of the valid transactions in the blocks stored after a tip. A key or a row whose
 * difference from the replay one of them explains — the stored value and version are what such a
 * block wrote, the key was deleted by one, the row names one of their transactions — moved on
 * while the audit ran; anything else is still a divergence (a version pushed past the tip by
 * hand is not excused: no stored block wrote it).
 */
class LaterBlocks {
    private readonly writes = new Map<string, { version: Version; value?: string }[]>();
    private readonly transactions = new Set<string>();

    static async read(store: LedgerHistory, tip: number): Promise<LaterBlocks> {
        const later = new LaterBlocks();
        for (let from = tip + 1; ;) {
            const page = await store.blocks(from, 200);
            for (const block of page) {
                let data;
                try {
                    data = parseBlockData(block.data);
                } catch {
                    continue;
                }
                if (data.kind !== 'transactions') {
                    continue;
                }
                for (const [txIndex, transaction] of data.transactions.entries()) {
                    if (transaction.validationCode !== 'VALID') {
                        continue;
                    }
                    later.transactions.add(`${block.number}/${transaction.transactionId}`);
                    for (const write of transaction.readWriteSet.writes) {
                        const id = stateId(write.namespace, write.key);
                        const list = later.writes.get(id) ?? [];
                        list.push({ version: { blockNumber: block.number, txIndex }, ...(write.isDelete ? {} : { value: write.value ?? '' }) });
                        later.writes.set(id, list);
                    }
                }
            }
            const last = page.at(-1);
            if (!last) {
                return later;
            }
            from = last.number + 1;
        }
    }

    changedState(divergence: StoredDivergence): boolean {
        const writes = this.writes.get(stateId(divergence.namespace, divergence.key)) ?? [];
        if (divergence.problem === 'missing') {
            return writes.some((write) => write.value === undefined);
        }
        const stored = divergence.storedVersion;
        return stored !== undefined && writes.some((write) => write.value === divergence.storedValue
            && write.version.blockNumber === stored.blockNumber && write.version.txIndex === stored.txIndex);
    }

    changedRow(divergence: IndexDivergence): boolean {
        return divergence.problem !== 'missing' && this.transactions.has(`${divergence.blockNumber}/${divergence.transactionId}`);
    }
}

/**
 * Replays the ledger from block 0 (to a block or a time, or to the tip), checks everything the
 * replay checks, and — when it reached the tip — compares the rebuilt state with the live world
 * state and the gateway's query tables.
 */
export async function auditLedger(store: LedgerHistory, pool: Pool, options: AuditOptions = {}): Promise<AuditReport> {
    const started = Date.now();
    // The consensus first, to the height the store had reached when the audit began; a network's blocks go on meanwhile.
    const consensus = options.consensus ? await auditConsensus(options.consensus, store, options.toBlock) : undefined;
    // The replay goes as far as the consensus chain read (a copy of a block store may end earlier than the node).
    const replay = await replayLedger(store, { toBlock: options.toBlock ?? consensus?.lastBlock, asOf: options.asOf, onProgress: options.onProgress });
    const state = new ReplayedState(replay, replay.chaincode);
    let worldState: LocatedStateDivergence[] = [];
    let queryTables: IndexDivergence[] = [];
    if (replay.reachedTip) {
        const stored = await stateDivergences(replay.state, store.statePages(options.pageSize));
        // The tables are compared once the indexer has applied every block the replay covered.
        await indexedTo(pool, replay.lastBlock, options.indexerWaitMs ?? INDEXER_WAIT_MS);
        const rows = await indexDivergences(pool, state, options.pageSize);
        // A live ledger commits while it is audited: what a block stored after the replayed tip
        // changed is left to the next audit (read now, after both comparisons, so that it covers
        // whatever they saw).
        const later = stored.length + rows.length > 0 ? await LaterBlocks.read(store, replay.lastBlock) : undefined;
        worldState = await locate(store, stored.filter((divergence) => !later?.changedState(divergence)), replay.state);
        queryTables = rows.filter((divergence) => !later?.changedRow(divergence));
    }
    const valid = replay.byCode.VALID ?? 0;
    const durationMs = Date.now() - started;
    const clean = replay.chain.length === 0 && replay.signatures.length === 0 && replay.validation.length === 0 && worldState.length === 0 && queryTables.length === 0
        && (consensus?.problems.length ?? 0) === 0;
    return {
        ledger: consensus
            ? { kind: 'network', channel: replay.channel, chaincode: replay.chaincode, chainId: consensus.chainId }
            : { kind: 'embedded', channel: replay.channel, chaincode: replay.chaincode },
        ...(consensus ? { consensus } : {}),
        scope: { fromBlock: 0, toBlock: replay.lastBlock, asOf: options.asOf?.toISOString() ?? null, reachedTip: replay.reachedTip, lastTransactionAt: replay.lastTime },
        generatedAt: new Date().toISOString(),
        blocks: replay.blocks,
        transactions: { total: replay.transactions, valid, invalid: replay.transactions - valid, byCode: replay.byCode },
        chain: { verified: replay.chain.length === 0, problems: replay.chain },
        signatures: { checked: replay.signaturesChecked, failed: replay.signatures.length, problems: replay.signatures },
        validationCodes: { checked: replay.validationChecked, problems: replay.validation },
        worldState: { compared: replay.reachedTip, divergences: worldState },
        queryTables: { compared: replay.reachedTip, divergences: queryTables },
        records: tally(state, new Date(options.asOf ?? replay.lastTime ?? Date.now())),
        lastBlockHash: replay.lastHash,
        verdict: clean ? 'CLEAN' : 'PROBLEMS',
        durationMs,
        transactionsPerSecond: Math.round(replay.transactions / Math.max(durationMs / 1000, 0.001)),
    };
}

/**
 * Verifies the consensus chain up to the CometBFT height of the node's last stored block (or of
 * the block asked for): its commits and headers, and every block executed again from empty state.
 */
async function auditConsensus(source: ConsensusSource, store: LedgerHistory, toBlock: number | undefined): Promise<ConsensusSection> {
    const last = await store.lastBlock();
    const upTo = toBlock === undefined ? last : (await store.blocks(toBlock, 1))[0] ?? last;
    const data = upTo && upTo.number > 0 ? parseBlockData(upTo.data) : undefined;
    const toHeight = data?.kind === 'transactions' ? data.consensus?.height : undefined;
    const { state: _state, ...section } = await verifyConsensus(source, { store, chaincode: loadChaincode({ logLevel: 'CRITICAL' }), toHeight });
    return section;
}

/** Adds to each divergence the block and transaction that last wrote its key (replayed, or else stored). */
async function locate(
    store: LedgerHistory, divergences: readonly StoredDivergence[], replayed: ReadonlyMap<string, { version: { blockNumber: number; txIndex: number } }>,
): Promise<LocatedStateDivergence[]> {
    const located: LocatedStateDivergence[] = [];
    for (const [index, { storedVersion, storedValue: _storedValue, ...divergence }] of divergences.entries()) {
        const version = replayed.get(stateId(divergence.namespace, divergence.key))?.version ?? storedVersion;
        if (!version || index >= LOCATE_LIMIT) {
            located.push(divergence);
            continue;
        }
        const [block] = await store.blocks(version.blockNumber, 1);
        let transactionId: string | undefined;
        try {
            const data = block && block.number === version.blockNumber ? parseBlockData(block.data) : undefined;
            transactionId = data?.kind === 'transactions' ? data.transactions[version.txIndex]?.transactionId : undefined;
        } catch {
            transactionId = undefined;
        }
        located.push({ ...divergence, blockNumber: version.blockNumber, ...(transactionId ? { transactionId } : {}) });
    }
    return located;
}

/** An entity as of a block or a time, with every change to it up to then. */
export async function entityAsOf(store: LedgerHistory, ref: EntityRef, options: Readonly<{ toBlock?: number; asOf?: Date }>): Promise<{
    readonly asOfBlock: number; readonly asOfTime: string | null; readonly lastBlockHash: string;
    readonly state: Record<string, unknown> | null; readonly history: ReturnType<typeof historyOf>;
}> {
    const belongs = keyOfEntity(ref);
    const replay = await replayLedger(store, {
        toBlock: options.toBlock, asOf: options.asOf, signatures: false, validation: false, watch: (_namespace, key) => belongs(key),
    });
    return {
        asOfBlock: replay.lastBlock, asOfTime: replay.lastTime, lastBlockHash: replay.lastHash,
        state: new ReplayedState(replay, replay.chaincode).entity(ref) ?? null,
        history: historyOf(replay),
    };
}

/** The report as a PDF for the file: what was checked, what was found, and the last block's hash. */
export function auditReportPdf(report: AuditReport): Promise<Uint8Array> {
    const counts = (values: Readonly<Record<string, number>>): string => Object.entries(values).map(([key, value]) => `${key} ${value}`).join(', ') || 'none';
    const findings = (list: readonly { blockNumber?: number; transactionId?: string; problem: string }[], none: string): (readonly [string, string])[] =>
        list.length === 0 ? [['Result', none]] : list.slice(0, 60).map((finding) => [`Block ${finding.blockNumber ?? '?'}`, `${finding.problem}${finding.transactionId ? ` (transaction ${finding.transactionId})` : ''}`]);
    const sections: Section[] = [
        {
            heading: 'Scope', rows: [
                ['Ledger', `${report.ledger.kind}, channel ${report.ledger.channel}, chaincode ${report.ledger.chaincode}`],
                ['Blocks', `0 to ${report.scope.toBlock}${report.scope.reachedTip ? ' (the tip)' : ''}`],
                ['As of', report.scope.asOf ?? 'the tip'],
                ['Last transaction', report.scope.lastTransactionAt ?? '—'],
                ['Last block hash', report.lastBlockHash],
                ['Verdict', report.verdict === 'CLEAN' ? 'Clean: every check passed' : 'Problems found: see below'],
            ],
        },
        {
            heading: 'Transactions', rows: [
                ['Checked', `${report.transactions.total} in ${report.blocks} blocks, ${report.transactionsPerSecond} a second`],
                ['Valid', String(report.transactions.valid)],
                ['Invalid', `${report.transactions.invalid} (${counts(report.transactions.byCode)})`],
                ['Signatures', `${report.signatures.checked} checked, ${report.signatures.failed} failed`],
            ],
        },
        ...(report.consensus ? [{
            heading: 'Consensus', rows: [
                ['Chain', `${report.consensus.chainId}, heights 1 to ${report.consensus.lastHeight}`],
                ['Validators', report.consensus.validators.map((validator) => `${validator.name} (${validator.power})`).join(', ')],
                ['Commits', `${report.consensus.commitsVerified} of ${report.consensus.heights} signed by more than two thirds of the voting power (${report.consensus.signaturesVerified} signatures checked)`],
                ['Executed again', `${report.consensus.transactionsExecuted} transactions in ${report.consensus.blocksExecuted} blocks, from empty state; ${report.consensus.appHashesVerified} app hashes equal to what the headers commit to`],
                ['Final app hash', report.consensus.finalAppHash],
                ...(report.consensus.problems.length === 0 ? [['Result', 'every header, commit and app hash verifies'] as const]
                    : report.consensus.problems.slice(0, 60).map((finding) => [`Height ${finding.height}${finding.blockNumber === undefined ? '' : ` (block ${finding.blockNumber})`}`, finding.problem] as const)),
            ],
        } satisfies Section] : []),
        { heading: 'Hash chain', rows: findings(report.chain.problems, 'every block hashes to its header and names the one before it') },
        { heading: 'Creators and signatures', rows: findings(report.signatures.problems, 'every creator is a member of its organisation and signed its proposal') },
        { heading: 'Validation codes', rows: findings(report.validationCodes.problems, 'every validation code is what the replay derives') },
        {
            heading: 'World state', rows: !report.worldState.compared ? [['Result', 'not compared: the replay stopped before the tip']]
                : report.worldState.divergences.length === 0 ? [['Result', 'the live world state equals the replay']]
                    : report.worldState.divergences.slice(0, 60).map((divergence) => [divergence.problem, `${divergence.key.replace(/\u0000/g, '·')} (block ${divergence.blockNumber ?? '?'}${divergence.transactionId ? `, transaction ${divergence.transactionId}` : ''})`]),
        },
        {
            heading: 'Query tables', rows: !report.queryTables.compared ? [['Result', 'not compared: the replay stopped before the tip']]
                : report.queryTables.divergences.length === 0 ? [['Result', 'every row matches the replayed ledger']]
                    : report.queryTables.divergences.slice(0, 60).map((divergence) => [divergence.problem, `${divergence.table} ${divergence.key}${divergence.blockNumber === undefined ? '' : ` (row from block ${divergence.blockNumber})`}`]),
        },
        {
            heading: 'Records', rows: [
                ['Documents', counts(report.records.documents)],
                ['Verifications', counts(report.records.verifications)],
                ['Handoffs', counts(report.records.handoffs)],
                ['Overdue', String(report.records.overdue)],
                ['Cases', counts(report.records.cases)],
            ],
        },
    ];
    return renderPlain({
        title: 'Counterfoil ledger audit',
        subtitle: `Replayed from block 0 on ${report.generatedAt}. Two auditors whose reports show the same last block hash audited the same ledger.`,
        sections,
        footer: `Audit of ${report.ledger.channel} to block ${report.scope.toBlock} · last block ${report.lastBlockHash.slice(0, 16)}…`,
    });
}
