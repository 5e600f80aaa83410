import type { Pool } from 'pg';
import type { CloseableAsyncIterable, Ledger, LedgerBlock } from '../../network/ledger';
import { Statement } from '../../network/postgres/statement';
import { ProjectionBatch } from './projections';

const CHECKPOINT = 'ledger';
/** Blocks applied in one statement at most, when the indexer has fallen behind. */
const MOST_BLOCKS_AT_ONCE = 100;
/** Blocks read ahead of the one being applied at most. */
const MOST_BLOCKS_WAITING = 200;

/** The block the indexer cannot apply, while it cannot: an outage, retried until it passes. */
export interface IndexerFailure {
    readonly blockNumber: bigint;
    readonly error: Error;
    /** When the block first failed. */
    readonly since: Date;
    readonly attempts: number;
}

/** A write of the query tables that failed, with the one block it was applying. */
export class BlockIndexingError extends Error {
    constructor(readonly blockNumber: bigint, override readonly cause: Error) {
        super(`block ${blockNumber} could not be written to the query tables: ${cause.message}`);
        this.name = 'BlockIndexingError';
    }
}

/** Waits between attempts at a block that failed: doubling from the first, up to the most. */
const FIRST_RETRY_MS = 1000;
const MOST_RETRY_MS = 30_000;

export interface IndexerStatus {
    /** The last block whose events are all in the query tables (-1 before the first). */
    readonly blockNumber: bigint;
    readonly ledgerHeight: bigint;
    /** Blocks committed on the ledger that the query tables do not reflect yet. */
    readonly lagBlocks: number;
}

/**
 * Follows the ledger into PostgreSQL: blocks' rows, their events in the event log (with webhook
 * deliveries for their subscribers) and the checkpoint are written in one statement, so a restart
 * resumes exactly after the last block committed, and replaying one changes nothing.
 */
export class Indexer {
    private running?: Promise<void>;
    private blocks?: ReturnType<Ledger['blocks']>;
    private stopped = false;
    private applied = -1n;
    private readonly waiters = new Set<{ blockNumber: bigint; resolve: () => void; reject: (error: Error) => void }>();
    private failed?: IndexerFailure;
    private interrupt?: () => void;
    private readonly listeners = new Set<(blockNumber: bigint) => void>();

    constructor(private readonly ledger: Ledger, private readonly pool: Pool, private readonly onError: (error: Error) => void = () => undefined) {}

    async start(): Promise<void> {
        this.applied = await this.checkpoint();
        this.running = this.loop();
    }

    async stop(): Promise<void> {
        this.stopped = true;
        this.blocks?.close();
        this.interrupt?.();
        await this.running;
        for (const waiter of this.waiters) {
            waiter.resolve();
        }
    }

    /** Calls `listener` after each block is in the query tables; returns the unsubscribe function. */
    onIndexed(listener: (blockNumber: bigint) => void): () => void {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }

    /**
     * Resolves once every event up to and including `blockNumber` is in the query tables; rejects
     * at once while the indexer cannot apply a block at or before it.
     */
    caughtUp(blockNumber: bigint, timeoutMs = 10_000): Promise<void> {
        if (this.applied >= blockNumber) {
            return Promise.resolve();
        }
        if (this.failed && this.failed.blockNumber <= blockNumber) {
            return Promise.reject(this.failed.error);
        }
        return new Promise((resolve, reject) => {
            const waiter = { blockNumber, resolve: () => { clearTimeout(timer); resolve(); }, reject: (error: Error) => { clearTimeout(timer); reject(error); } };
            const timer = setTimeout(() => {
                this.waiters.delete(waiter);
                reject(new Error(`the indexer has not reached block ${blockNumber} within ${timeoutMs} ms`));
            }, timeoutMs);
            this.waiters.add(waiter);
        });
    }

    async status(): Promise<IndexerStatus> {
        const info = await this.ledger.info();
        return { blockNumber: this.applied, ledgerHeight: info.height, lagBlocks: Math.max(0, Number(info.height - 1n - this.applied)) };
    }

    /** The block the indexer cannot apply, while it cannot. */
    get failure(): IndexerFailure | undefined {
        return this.failed;
    }

    /**
     * Notes the block that failed, counting the attempts at the same block, and lets writers
     * waiting on it answer without waiting.
     */
    private recordFailure(error: BlockIndexingError): IndexerFailure {
        const { blockNumber } = error;
        const previous = this.failed?.blockNumber === blockNumber ? this.failed : undefined;
        this.failed = { blockNumber, error, since: previous?.since ?? new Date(), attempts: (previous?.attempts ?? 0) + 1 };
        for (const waiter of this.waiters) {
            if (waiter.blockNumber >= blockNumber) {
                this.waiters.delete(waiter);
                waiter.reject(error);
            }
        }
        return this.failed;
    }

    /** Waits, returning at once when the indexer stops. */
    private pause(milliseconds: number): Promise<void> {
        return new Promise((resolve) => {
            const timer = setTimeout(() => { this.interrupt = undefined; resolve(); }, milliseconds);
            this.interrupt = () => { clearTimeout(timer); resolve(); };
        });
    }

    private async checkpoint(): Promise<bigint> {
        const result = await this.pool.query<{ block_number: string }>('SELECT block_number FROM indexer_checkpoint WHERE name = $1::text', [CHECKPOINT]);
        const row = result.rows[0];
        return row ? BigInt(row.block_number) : -1n;
    }

    private async loop(): Promise<void> {
        while (!this.stopped) {
            const blocks = this.ledger.blocks(this.applied + 1n);
            this.blocks = blocks;
            try {
                await this.follow(blocks);
                // The stream ended without a stop (the ledger closed under it): look again shortly.
                if (!this.stopped) {
                    await new Promise((resolve) => setTimeout(resolve, 1000));
                }
            } catch (error) {
                if (this.stopped) {
                    return;
                }
                // A block that cannot be written is an outage until it is; a failed read (the
                // database restarting, say) is tried again as it is.
                const failure = error instanceof BlockIndexingError ? this.recordFailure(error) : undefined;
                this.onError(error as Error);
                await this.pause(failure ? Math.min(MOST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(failure.attempts - 1, 10)) : FIRST_RETRY_MS);
            }
        }
    }

    /**
     * Reads blocks as they come and applies whatever has arrived meanwhile in one statement: one
     * block at a time while keeping up, many at once while catching up. Closes `blocks` when it
     * returns or throws.
     */
    private async follow(blocks: CloseableAsyncIterable<LedgerBlock>): Promise<void> {
        const arrived: LedgerBlock[] = [];
        let ended = false;
        let failure: unknown;
        let wake: (() => void) | undefined;
        let room: (() => void) | undefined;
        const reading = (async () => {
            try {
                for await (const block of blocks) {
                    arrived.push(block);
                    wake?.();
                    while (arrived.length >= MOST_BLOCKS_WAITING && !this.stopped) {
                        await new Promise<void>((resolve) => { room = resolve; });
                    }
                }
            } catch (error) {
                failure = error;
            } finally {
                ended = true;
                wake?.();
            }
        })();
        try {
            for (;;) {
                if (arrived.length === 0) {
                    if (ended) {
                        break;
                    }
                    await new Promise<void>((resolve) => { wake = resolve; });
                    continue;
                }
                const batch = arrived.splice(0, MOST_BLOCKS_AT_ONCE);
                room?.();
                await this.applyNamingFailure(batch);
            }
        } finally {
            // On a failed write too, the reader must stop: it would otherwise wait for new blocks
            // forever, and this loop with it.
            blocks.close();
            room?.();
            await reading.catch(() => undefined);
        }
        if (failure !== undefined) {
            throw failure;
        }
    }

    /**
     * Applies a batch; when it fails, applies its blocks one at a time, so that those before the
     * one at fault are indexed and the error names that one block.
     */
    private async applyNamingFailure(blocks: readonly LedgerBlock[]): Promise<void> {
        try {
            await this.apply(blocks);
        } catch (error) {
            const only = blocks.length === 1 ? blocks[0] : undefined;
            if (only) {
                throw new BlockIndexingError(only.number, error as Error);
            }
            for (const block of blocks) {
                await this.applyNamingFailure([block]);
            }
        }
    }

    private async apply(blocks: readonly LedgerBlock[]): Promise<void> {
        const last = blocks.at(-1);
        if (!last) {
            return;
        }
        const batch = new ProjectionBatch();
        for (const block of blocks) {
            for (const [index, transaction] of block.transactions.entries()) {
                if (transaction.validationCode === 'VALID' && transaction.event) {
                    batch.add({
                        blockNumber: block.number, transactionId: transaction.transactionId, transactionIndex: index,
                        timestamp: transaction.timestamp, name: transaction.event.name, payload: transaction.event.payload,
                    });
                }
            }
        }
        // The batch and the checkpoint in one statement: atomic without a transaction, one round trip.
        await batch.prepare(this.pool);
        const statement = new Statement();
        batch.write(statement);
        statement.part(
            `INSERT INTO indexer_checkpoint (name, block_number, updated_at) VALUES (${statement.value(CHECKPOINT, 'text')}, ${statement.value(last.number.toString(), 'bigint')}, now())
             ON CONFLICT (name) DO UPDATE SET block_number = EXCLUDED.block_number, updated_at = now()`);
        await statement.run(this.pool);
        this.applied = last.number;
        this.failed = undefined;
        for (const listener of this.listeners) {
            listener(last.number);
        }
        for (const waiter of this.waiters) {
            if (this.applied >= waiter.blockNumber) {
                this.waiters.delete(waiter);
                waiter.resolve();
            }
        }
    }
}
