import { compareKeys } from '../execution/composite-keys';
import type { StateView } from '../execution/stub';
import { stateId, type Version } from '../storage/blocks';
import type { BlockCommit, HistoryEntry, StateEntry } from '../storage/store';

/**
 * World state rebuilt by an auditor who executes the chain again from empty state, held in
 * memory: each namespace's keys kept in bytewise order for range reads, every key's history, and
 * key-level validation parameters — what a node's database answers, without the database.
 * Private data values are never part of it: ordered transactions do not read them.
 */
export class ReplayedWorldState implements StateView {
    private readonly values = new Map<string, StateEntry>();
    /** Each namespace's keys, in bytewise order. */
    private readonly ordered = new Map<string, string[]>();
    private readonly histories = new Map<string, HistoryEntry[]>();
    private readonly parameters = new Map<string, Buffer>();

    constructor(readonly namespace: string) {}

    get size(): number {
        return this.values.size;
    }

    /** Every key's value and version, by `namespace \u0001 key`, for comparing with a node's world state. */
    entries(): Map<string, { value: string; version: Version }> {
        return new Map([...this.values.entries()].map(([id, entry]) => [id, { value: entry.value.toString('base64'), version: entry.version }]));
    }

    async getState(namespace: string, key: string): Promise<StateEntry | undefined> {
        return this.values.get(stateId(namespace, key));
    }

    async getValidationParameter(namespace: string, key: string): Promise<Buffer | undefined> {
        return this.parameters.get(stateId(namespace, key));
    }

    async range(namespace: string, startKey: string, endKey: string, limit: number): Promise<StateEntry[]> {
        const keys = this.ordered.get(namespace) ?? [];
        const found: StateEntry[] = [];
        for (let index = lowerBound(keys, startKey); index < keys.length && found.length < limit; index++) {
            const key = keys[index] as string;
            if (endKey !== '' && compareKeys(key, endKey) >= 0) {
                break;
            }
            found.push(this.values.get(stateId(namespace, key)) as StateEntry);
        }
        return found;
    }

    async history(namespace: string, key: string): Promise<HistoryEntry[]> {
        return [...(this.histories.get(stateId(namespace, key)) ?? [])].reverse();
    }

    async getPrivate(): Promise<Buffer | undefined> {
        return undefined;
    }

    /** Applies a committed block's state changes, as a node's store does at Commit. */
    apply(blockNumber: number, transactions: BlockCommit['transactions']): void {
        for (const transaction of transactions) {
            const version = { blockNumber, txIndex: transaction.txIndex };
            for (const write of transaction.writes) {
                const id = stateId(write.namespace, write.key);
                const value = write.isDelete ? undefined : Buffer.from(write.value ?? '', 'base64');
                const keys = this.ordered.get(write.namespace) ?? [];
                this.ordered.set(write.namespace, keys);
                const at = lowerBound(keys, write.key);
                const present = keys[at] === write.key;
                if (value) {
                    this.values.set(id, { key: write.key, value, version });
                    if (!present) {
                        keys.splice(at, 0, write.key);
                    }
                } else {
                    this.values.delete(id);
                    this.parameters.delete(id);
                    if (present) {
                        keys.splice(at, 1);
                    }
                }
                const history = this.histories.get(id) ?? [];
                history.push({ transactionId: transaction.transactionId, timestamp: transaction.timestamp, isDelete: write.isDelete, value: value ?? Buffer.alloc(0) });
                this.histories.set(id, history);
            }
            for (const write of transaction.metadataWrites) {
                if (this.values.has(stateId(write.namespace, write.key))) {
                    this.parameters.set(stateId(write.namespace, write.key), Buffer.from(write.validationParameter, 'base64'));
                }
            }
        }
    }
}

/** The first position in `keys` (bytewise order) not before `key`. */
function lowerBound(keys: readonly string[], key: string): number {
    let low = 0;
    let high = keys.length;
    while (low < high) {
        const middle = (low + high) >>> 1;
        if (compareKeys(keys[middle] as string, key) < 0) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low;
}
