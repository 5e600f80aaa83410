import { type Block, stateId, type Version } from './blocks';

/** A committed key as the cache holds it: its value and version, or null when the key does not exist. */
export type CachedEntry = { readonly value: Buffer; readonly version: Version } | null;

/**
 * The committed world state most recently read or written, in memory. The committer is the one
 * writer of the embedded ledger (it holds the database's advisory lock), so once it applies each
 * committed block here, a cached key is exactly what PostgreSQL holds: simulations and block
 * validation read it without a round trip. When it is full, the key read or written longest ago
 * leaves (a hit does not move a key: keeping the order would cost more than a rare re-read).
 *
 * A read from the database may race a commit: it fills the cache only if no block was applied
 * since it began (`epoch`), so a value read before a commit never replaces the commit's.
 */
export class StateCache {
    private readonly entries = new Map<string, CachedEntry>();
    private applied = 0;

    constructor(private readonly capacity: number) {}

    /** Changes with every block applied and every clear. */
    get epoch(): number {
        return this.applied;
    }

    get size(): number {
        return this.entries.size;
    }

    /** The cached entry (null: the key does not exist), or undefined when the key is not cached. */
    get(id: string): CachedEntry | undefined {
        return this.entries.get(id);
    }

    /** Caches what the database answered, unless a block was applied since the read began. */
    fill(id: string, entry: CachedEntry, epoch: number): void {
        if (epoch === this.applied && this.capacity > 0) {
            this.put(id, entry);
        }
    }

    /** Applies the writes of a committed block's valid transactions. */
    apply(block: Block): void {
        this.applied++;
        if (block.data.kind !== 'transactions' || this.capacity === 0) {
            return;
        }
        for (const [txIndex, transaction] of block.data.transactions.entries()) {
            if (transaction.validationCode !== 'VALID') {
                continue;
            }
            for (const write of transaction.readWriteSet.writes) {
                const id = stateId(write.namespace, write.key);
                this.put(id, write.isDelete ? null : { value: Buffer.from(write.value ?? '', 'base64'), version: { blockNumber: block.header.number, txIndex } });
            }
        }
    }

    /** Forgets everything: after a commit whose outcome is not known, the database is read again. */
    clear(): void {
        this.applied++;
        this.entries.clear();
    }

    private put(id: string, entry: CachedEntry): void {
        this.entries.delete(id);
        this.entries.set(id, entry);
        if (this.entries.size > this.capacity) {
            const oldest = this.entries.keys().next();
            if (!oldest.done) {
                this.entries.delete(oldest.value);
            }
        }
    }
}
