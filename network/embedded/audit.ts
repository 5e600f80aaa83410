import { compareVersions, headerHash, sha256Hex, type Version } from './blocks';
import { type LedgerStore, parseBlockData } from './store';

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
 * its header to its hash, and that it names its predecessor's hash.
 */
export async function verifyChain(store: LedgerStore): Promise<ChainReport> {
    const problems: ChainProblem[] = [];
    let expectedNumber = 0;
    let previousHash = '';
    let transactions = 0;
    let valid = 0;
    for (;;) {
        const page = await store.blocks(expectedNumber, 200);
        if (page.length === 0) {
            break;
        }
        for (const block of page) {
            if (block.number !== expectedNumber) {
                problems.push({ blockNumber: expectedNumber, problem: `block ${expectedNumber} is missing; the next stored block is ${block.number}` });
            }
            const dataHash = sha256Hex(block.data);
            if (dataHash !== block.dataHash.toString('hex')) {
                problems.push({ blockNumber: block.number, problem: 'the block data does not match its data hash' });
            }
            const header = { number: block.number, previousHash: block.previousHash.toString('hex'), dataHash: block.dataHash.toString('hex') };
            if (headerHash(header) !== block.headerHash.toString('hex')) {
                problems.push({ blockNumber: block.number, problem: 'the block header does not match its hash' });
            }
            if (header.previousHash !== previousHash) {
                problems.push({ blockNumber: block.number, problem: 'the block does not name the hash of the block before it' });
            }
            try {
                const data = parseBlockData(block.data);
                if (data.kind === 'transactions') {
                    transactions += data.transactions.length;
                    valid += data.transactions.filter((transaction) => transaction.validationCode === 'VALID').length;
                }
            } catch {
                problems.push({ blockNumber: block.number, problem: 'the block data is not readable' });
            }
            previousHash = block.headerHash.toString('hex');
            expectedNumber = block.number + 1;
        }
    }
    return { blocks: expectedNumber, transactions, valid, invalid: transactions - valid, lastHash: previousHash, problems };
}

/** Rebuilds world state from the write sets of valid transactions and compares it with the stored state. */
export async function replayDivergences(store: LedgerStore): Promise<StateDivergence[]> {
    const replayed = new Map<string, { value: string; version: Version }>();
    for (let next = 0; ;) {
        const page = await store.blocks(next, 200);
        if (page.length === 0) {
            break;
        }
        for (const block of page) {
            const data = parseBlockData(block.data);
            if (data.kind === 'transactions') {
                data.transactions.forEach((transaction, txIndex) => {
                    if (transaction.validationCode !== 'VALID') {
                        return;
                    }
                    for (const write of transaction.readWriteSet.writes) {
                        const id = `${write.namespace}\u0001${write.key}`;
                        if (write.isDelete) {
                            replayed.delete(id);
                        } else {
                            replayed.set(id, { value: write.value ?? '', version: { blockNumber: block.number, txIndex } });
                        }
                    }
                });
            }
            next = block.number + 1;
        }
    }
    const stored = await store.allState();
    const divergences: StateDivergence[] = [];
    const describe = (id: string, problem: StateDivergence['problem']): StateDivergence => {
        const at = id.indexOf('\u0001');
        return { namespace: id.slice(0, at), key: id.slice(at + 1), problem };
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
