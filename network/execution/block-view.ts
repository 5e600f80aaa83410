import { stateId, type Version } from '../storage/blocks';
import type { HistoryEntry, PrivateWrite, StateEntry } from '../storage/store';
import { compareKeys } from './composite-keys';
import type { Simulation, StateView } from './stub';

interface Written {
    readonly namespace: string;
    readonly key: string;
    /** null: deleted by the block. */
    readonly value: Buffer | null;
    readonly version: Version;
}

/**
 * Committed state with the writes of a block's earlier transactions laid over it: under
 * order-then-execute each transaction of a block reads what the ones before it wrote, as it
 * would had they been committed one by one. Reads report the version a key has at that point
 * (this block and the writing transaction's index for a key the block wrote).
 */
export class BlockStateView implements StateView {
    private readonly written = new Map<string, Written>();
    private readonly parameters = new Map<string, Buffer>();
    private readonly histories = new Map<string, HistoryEntry[]>();
    private readonly privates = new Map<string, Buffer | null>();

    constructor(private readonly base: StateView, private readonly blockNumber: number) {}

    get namespace(): string {
        return this.base.namespace;
    }

    /** Lays a valid transaction's writes over the state for the transactions after it. */
    apply(txIndex: number, transactionId: string, timestamp: string, simulation: Simulation): void {
        const version = { blockNumber: this.blockNumber, txIndex };
        for (const write of simulation.readWriteSet.writes) {
            const id = stateId(write.namespace, write.key);
            const value = write.isDelete ? null : Buffer.from(write.value ?? '', 'base64');
            this.written.set(id, { namespace: write.namespace, key: write.key, value, version });
            if (write.isDelete) {
                this.parameters.delete(id);
            }
            const history = this.histories.get(id) ?? [];
            history.push({ transactionId, timestamp, isDelete: write.isDelete, value: value ?? Buffer.alloc(0) });
            this.histories.set(id, history);
        }
        for (const write of simulation.readWriteSet.metadataWrites) {
            this.parameters.set(stateId(write.namespace, write.key), Buffer.from(write.validationParameter, 'base64'));
        }
        for (const write of simulation.privateWrites as readonly PrivateWrite[]) {
            // Withheld content is not held here: reading it finds nothing, as on a non-member.
            this.privates.set(stateId(write.collection, write.key), write.value ?? null);
        }
    }

    async getState(namespace: string, key: string): Promise<StateEntry | undefined> {
        const written = this.written.get(stateId(namespace, key));
        if (written) {
            return written.value ? { key, value: written.value, version: written.version } : undefined;
        }
        return this.base.getState(namespace, key);
    }

    async getValidationParameter(namespace: string, key: string): Promise<Buffer | undefined> {
        const id = stateId(namespace, key);
        if (this.parameters.has(id)) {
            return this.parameters.get(id);
        }
        if (this.written.get(id)?.value === null) {
            return undefined;
        }
        return this.base.getValidationParameter(namespace, key);
    }

    async range(namespace: string, startKey: string, endKey: string, limit: number): Promise<StateEntry[]> {
        const inRange = [...this.written.values()].filter((entry) => entry.namespace === namespace
            && compareKeys(entry.key, startKey) >= 0 && (endKey === '' || compareKeys(entry.key, endKey) < 0));
        // Each key the block wrote may hide one committed row: read that many more.
        const committed = await this.base.range(namespace, startKey, endKey, limit + inRange.length);
        const merged = new Map(committed.map((entry) => [entry.key, entry]));
        for (const entry of inRange) {
            if (entry.value) {
                merged.set(entry.key, { key: entry.key, value: entry.value, version: entry.version });
            } else {
                merged.delete(entry.key);
            }
        }
        return [...merged.values()].sort((left, right) => compareKeys(left.key, right.key)).slice(0, limit);
    }

    async history(namespace: string, key: string): Promise<HistoryEntry[]> {
        const block = this.histories.get(stateId(namespace, key)) ?? [];
        return [...[...block].reverse(), ...await this.base.history(namespace, key)];
    }

    async getPrivate(collection: string, key: string): Promise<Buffer | undefined> {
        const id = stateId(collection, key);
        if (this.privates.has(id)) {
            return this.privates.get(id) ?? undefined;
        }
        return this.base.getPrivate(collection, key);
    }
}
