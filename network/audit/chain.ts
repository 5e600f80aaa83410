import { compareVersions, splitStateId, type Version } from '../storage/blocks';
import { replayLedger } from './replay';
import type { LedgerHistory } from '../ledger';

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
export async function verifyChain(store: LedgerHistory): Promise<ChainReport> {
    const replay = await replayLedger(store, { signatures: false, validation: false, state: false });
    const valid = replay.byCode.VALID ?? 0;
    return {
        blocks: replay.blocks, transactions: replay.transactions, valid, invalid: replay.transactions - valid, lastHash: replay.lastHash,
        problems: replay.chain.map(({ blockNumber, problem }) => ({ blockNumber, problem })),
    };
}

/** A state divergence with the stored version of its key, where the key is stored. */
export interface StoredDivergence extends StateDivergence {
    readonly storedVersion?: Version;
    /** The stored value (base64), where the key is stored. */
    readonly storedValue?: string;
}

type StateEntries = AsyncIterable<Iterable<readonly [string, { value: string; version: Version }]>>;

/**
 * Compares a world state rebuilt by replay with the stored one, key by key, reading the stored
 * state a page at a time.
 */
export async function stateDivergences(replayed: ReadonlyMap<string, { value: string; version: Version }>, stored: StateEntries): Promise<StoredDivergence[]> {
    const divergences: StoredDivergence[] = [];
    const describe = (id: string, problem: StateDivergence['problem'], stored?: { value: string; version: Version }): StoredDivergence => {
        const [namespace, key] = splitStateId(id);
        return { namespace, key, problem, ...(stored ? { storedVersion: stored.version, storedValue: stored.value } : {}) };
    };
    const seen = new Set<string>();
    for await (const page of stored) {
        for (const [id, actual] of page) {
            seen.add(id);
            const expected = replayed.get(id);
            if (!expected) {
                divergences.push(describe(id, 'unexpected', actual));
            } else if (actual.value !== expected.value) {
                divergences.push(describe(id, 'value differs', actual));
            } else if (!compareVersions(actual.version, expected.version)) {
                divergences.push(describe(id, 'version differs', actual));
            }
        }
    }
    for (const id of replayed.keys()) {
        if (!seen.has(id)) {
            divergences.push(describe(id, 'missing'));
        }
    }
    return divergences;
}

/** Rebuilds world state from the write sets of valid transactions and compares it with the stored state. */
export async function replayDivergences(store: LedgerHistory): Promise<StateDivergence[]> {
    const replay = await replayLedger(store, { signatures: false, validation: false });
    return (await stateDivergences(replay.state, store.statePages())).map(({ namespace, key, problem }) => ({ namespace, key, problem }));
}
