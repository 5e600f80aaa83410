import type { Pool } from 'pg';
import { type CachedEntry, type StateCache } from './state-cache';
import { splitStateId } from './blocks';

/** Reads of keys the cache does not hold, waiting for their query. */
interface Waiting {
    readonly resolve: (entry: CachedEntry) => void;
    readonly reject: (error: Error) => void;
}

/**
 * Reads world-state keys for many simulations at once. Simulations running side by side each read
 * a few keys the cache does not hold (most often a key that does not exist yet: a new document,
 * a new handoff); each read alone would be a round trip and a socket write on the event loop.
 * Reads asked for while `maxInFlight` queries are out wait and go together in the next one, so
 * under load the reads of many simulations share a query, and when the ledger is quiet a read
 * goes out at once. What a query answers fills the cache, as any read does (see StateCache.fill).
 */
export class StateReads {
    private waiting = new Map<string, Waiting[]>();
    private inFlight = 0;
    private scheduled = false;

    constructor(private readonly pool: Pool, private readonly cache: StateCache, private readonly maxInFlight = 2) {}

    /** The committed entry of a key (`stateId`), null when it does not exist. */
    read(id: string): Promise<CachedEntry> {
        return new Promise((resolve, reject) => {
            const waiters = this.waiting.get(id);
            if (waiters) {
                waiters.push({ resolve, reject });
            } else {
                this.waiting.set(id, [{ resolve, reject }]);
            }
            this.schedule();
        });
    }

    /** Sends what waits once the reads asked for in this turn of the event loop have joined it. */
    private schedule(): void {
        if (this.scheduled || this.inFlight >= this.maxInFlight) {
            return;
        }
        this.scheduled = true;
        queueMicrotask(() => {
            this.scheduled = false;
            void this.flush();
        });
    }

    private async flush(): Promise<void> {
        if (this.waiting.size === 0 || this.inFlight >= this.maxInFlight) {
            return;
        }
        const batch = this.waiting;
        this.waiting = new Map();
        this.inFlight++;
        const epoch = this.cache.epoch;
        try {
            const ids = [...batch.keys()];
            const keys = ids.map(splitStateId);
            const result = await this.pool.query<{ i: number; value: Buffer; block_number: string; tx_index: number }>(
                `SELECT wanted.i, w.value, w.block_number, w.tx_index
                   FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS wanted (namespace, key, i)
                   JOIN world_state w ON w.namespace = wanted.namespace AND w.key = wanted.key`,
                [keys.map(([namespace]) => namespace), keys.map(([, key]) => Buffer.from(key, 'utf8'))],
            );
            const found = new Map<string, CachedEntry>();
            for (const row of result.rows) {
                found.set(ids[Number(row.i) - 1] as string, { value: row.value, version: { blockNumber: Number(row.block_number), txIndex: row.tx_index } });
            }
            for (const [id, waiters] of batch) {
                const entry = found.get(id) ?? null;
                this.cache.fill(id, entry, epoch);
                for (const waiter of waiters) {
                    waiter.resolve(entry);
                }
            }
        } catch (error) {
            for (const waiters of batch.values()) {
                for (const waiter of waiters) {
                    waiter.reject(error as Error);
                }
            }
        } finally {
            this.inFlight--;
            this.schedule();
        }
    }
}
