import { compareVersions, splitStateId, type Version } from './blocks';
import { replayLedger } from './replay';
import type { LedgerStore } from './store';

export interface ChainProblem {
    readonly blockNumber: number;
    readonly problem: string;
}

export interface ChainReport {
    readonly blocks: number;
    readonly transactions: number;
    readonly valid: number;
    readonly invalid: number;
    /** Hash of the last block checked: two auditors with the same value saw the same ledger. */
    readonly lastHash: string;
    readonly problems: ChainProblem[];
}

export interface StateDivergence {
    readonly namespace: string;
    readonly key: string;
    readonly problem: 'missing' | 'unexpected' | 'value differs' | 'version differs';
}

/**
 * Walks the stored blocks from block 0 and checks that each one's data hashes to its data hash,
 * its header to its hash, and that it names its predecessor's hash. (The hub does this on every
 * start; an auditor's replay checks signatures and validation codes as well.)
 */
export async function verifyChain(store: LedgerStore): Promise<ChainReport> {
    const replay = await replayLedger(store, { signatures: false, validation: false, state: false });
    const valid = replay.byCode.VALID ?? 0;
    return {
        blocks: replay.blocks, transactions: replay.transactions, valid, invalid: replay.transactions - valid, lastHash: replay.lastHash,
        problems: replay.chain.map(({ blockNumber, problem }) => ({ blockNumber, problem })),
    };
}

/** Compares a world state rebuilt by replay with the stored one, key by key. */
export function stateDivergences(
    replayed: ReadonlyMap<string, { value: string; version: Version }>, stored: ReadonlyMap<string, { value: string; version: Version }>,
): StateDivergence[] {
    const divergences: StateDivergence[] = [];
    const describe = (id: string, problem: StateDivergence['problem']): StateDivergence => {
        const [namespace, key] = splitStateId(id);
        return { namespace, key, problem };
    };
    for (const [id, expected] of replayed) {
        const actual = stored.get(id);
        if (!actual) {
            divergences.push(describe(id, 'missing'));
        } else if (actual.value !== expected.value) {
            divergences.push(describe(id, 'value differs'));
        } else if (!compareVersions(actual.version, expected.version)) {
            divergences.push(describe(id, 'version differs'));
        }
    }
    for (const id of stored.keys()) {
        if (!replayed.has(id)) {
            divergences.push(describe(id, 'unexpected'));
        }
    }
    return divergences;
}

/** Rebuilds world state from the write sets of valid transactions and compares it with the stored state. */
export async function replayDivergences(store: LedgerStore): Promise<StateDivergence[]> {
    const replay = await replayLedger(store, { signatures: false, validation: false });
    return stateDivergences(replay.state, await store.allState());
}
