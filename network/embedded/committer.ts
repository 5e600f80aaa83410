import { EventEmitter } from 'node:events';
import type { WriterSession } from '../storage/writer-session';
import type { Block, BlockTransaction, KeyWrite, RangeRead, ValidationCode, Version } from '../storage/blocks';
import { makeBlock, splitStateId, stateId } from '../storage/blocks';
import { inRange, rangeIsCurrent, rangeLimit, readsAreCurrent } from '../execution/validation';
import { compareKeys } from '../execution/composite-keys';
import type { BlockCommit, LedgerStore, PrivateWrite } from '../storage/store';

/** A transaction that has been endorsed and waits for a block. */
export interface EndorsedTransaction {
    readonly transaction: Omit<BlockTransaction, 'validationCode'>;
    readonly privateWrites: readonly PrivateWrite[];
}

export interface CommitOutcome {
    readonly blockNumber: number;
    readonly validationCode: ValidationCode;
}

interface Pending {
    readonly endorsed: EndorsedTransaction;
    readonly resolve: (outcome: CommitOutcome) => void;
    readonly reject: (error: Error) => void;
}

type Overlay = Map<string, Version | null>;

/** A block validated and built, ready to be written. */
interface Prepared {
    readonly block: Block;
    readonly bytes: Buffer;
    readonly commits: BlockCommit['transactions'][number][];
    readonly outcomes: CommitOutcome[];
    /** Every key its valid transactions write, with the version it gets (null: deleted). */
    readonly overlay: Overlay;
    readonly transactionIds: ReadonlySet<string>;
}

/**
 * Orders endorsed transactions into blocks and commits them one block at a time. While a block
 * is being written, the transactions queued meanwhile are validated and built into the next block
 * (over the state the block being written leaves), which is written as soon as the one before it
 * is durable: the block size follows the load, and validating a block costs no time of the
 * database's. Each block, its transactions' validation codes and every state change it makes are
 * written in one PostgreSQL statement: a block is either wholly durable or absent.
 */
export class Committer {
    private readonly queue: Pending[] = [];
    private running = false;
    private closed = false;
    /** The block being written, and whether it became durable. */
    private writing?: { readonly prepared: Prepared; readonly durable: Promise<boolean> };
    /** Wakes the ordering loop when a transaction arrives while a block is being written. */
    private arrived?: () => void;
    readonly blocks = new EventEmitter();

    constructor(
        private readonly store: LedgerStore,
        private readonly session: WriterSession,
        private height: number,
        private previousHash: string,
        private readonly maxBlockTransactions: number,
    ) {
        this.blocks.setMaxListeners(0);
    }

    get currentHeight(): number {
        return this.height;
    }

    get currentHash(): string {
        return this.previousHash;
    }

    enqueue(endorsed: EndorsedTransaction): Promise<CommitOutcome> {
        if (this.closed) {
            return Promise.reject(new Error('the ledger is closed'));
        }
        return new Promise((resolve, reject) => {
            this.queue.push({ endorsed, resolve, reject });
            this.arrived?.();
            void this.drain();
        });
    }

    /** Stops taking transactions and waits for the block being written. */
    async close(): Promise<void> {
        this.closed = true;
        this.arrived?.();
        while (this.running) {
            await new Promise((resolve) => this.blocks.once('idle', resolve));
        }
        for (const pending of this.queue.splice(0)) {
            pending.reject(new Error('the ledger closed before the transaction was ordered'));
        }
    }

    private async drain(): Promise<void> {
        if (this.running) {
            return;
        }
        this.running = true;
        try {
            while (this.queue.length > 0 || this.writing) {
                if (this.closed) {
                    // What is queued is refused by close(); the block being written is finished.
                    await this.writing?.durable;
                    break;
                }
                if (this.queue.length === 0) {
                    // Nothing to build: wait for the block being written, or for a transaction.
                    const arrival = new Promise<void>((resolve) => { this.arrived = resolve; });
                    await Promise.race([(this.writing as NonNullable<Committer['writing']>).durable, arrival]);
                    this.arrived = undefined;
                    continue;
                }
                const batch = this.queue.splice(0, this.maxBlockTransactions);
                const before = this.writing;
                let prepared: Prepared;
                try {
                    prepared = await this.prepare(batch.map((pending) => pending.endorsed), before?.prepared);
                } catch (error) {
                    // State could not be read to validate the batch: its transactions fail as a block write would.
                    await before?.durable;
                    for (const pending of batch) {
                        pending.reject(error as Error);
                    }
                    continue;
                }
                if (before && !(await before.durable)) {
                    // The block it follows was not written: validate these again over the state as it is.
                    if (this.writing === before) {
                        this.writing = undefined;
                    }
                    this.queue.unshift(...batch);
                    continue;
                }
                const durable = this.write(prepared, batch);
                const writing = { prepared, durable };
                this.writing = writing;
                void durable.then(() => {
                    if (this.writing === writing) {
                        this.writing = undefined;
                    }
                });
            }
        } finally {
            this.running = false;
            this.blocks.emit('idle');
        }
    }

    /** Writes a prepared block and settles its transactions; false if it could not be written. */
    private async write(prepared: Prepared, batch: readonly Pending[]): Promise<boolean> {
        try {
            await this.commitBlock(prepared);
            batch.forEach((pending, index) => pending.resolve(prepared.outcomes[index] as CommitOutcome));
            return true;
        } catch (error) {
            for (const pending of batch) {
                pending.reject(error as Error);
            }
            await this.resync();
            return false;
        }
    }

    /**
     * After a failed block write, takes the chain's tip from the database again: if the COMMIT
     * reached the database but its answer was lost, the next block must follow that one.
     */
    private async resync(): Promise<void> {
        this.store.forgetCachedState();
        try {
            const last = await this.store.lastBlock();
            if (last) {
                this.height = last.number + 1;
                this.previousHash = last.headerHash.toString('hex');
            }
        } catch {
            // The database is unreachable; the next block write will fail and resync again.
        }
    }

    /**
     * Writes a block; if the database connection is lost meanwhile, reconnects and either finds the
     * block already durable (the COMMIT landed but its answer was lost) or writes it again.
     */
    private async commitBlock(prepared: Prepared): Promise<void> {
        const { block, bytes, commits } = prepared;
        for (let attempt = 1; ; attempt++) {
            try {
                // On the committer's own connection: the pool's may all be busy with simulations.
                await this.store.commit(await this.session.client(), { block, bytes, transactions: commits });
                this.advance(block);
                return;
            } catch (error) {
                if (attempt >= 5 || await this.session.healthy()) {
                    throw error; // a real failure, not a lost connection
                }
                await this.session.client();
                const [stored] = await this.store.blocks(block.header.number, 1);
                if (stored && stored.headerHash.toString('hex') === block.hash) {
                    this.advance(block);
                    return;
                }
            }
        }
    }

    private advance(block: Block): void {
        this.store.committed(block);
        this.height = block.header.number + 1;
        this.previousHash = block.hash;
        this.blocks.emit('block', block);
    }

    /**
     * Validates a batch's transactions and builds their block, to follow the tip or, when one is
     * being written, that block: its writes count as committed state and its transaction ids as
     * used. The committer is the ledger's one writer, so committed state cannot move otherwise
     * between these reads and the block's write; the write is one statement, atomic on its own.
     */
    private async prepare(batch: readonly EndorsedTransaction[], after?: Prepared): Promise<Prepared> {
        const number = after ? after.block.header.number + 1 : this.height;
        const previousHash = after ? after.block.hash : this.previousHash;
        const duplicates = await this.store.transactionExists(batch.map((entry) => entry.transaction.transactionId));
        const committed = await this.store.versions(batch.flatMap((entry) => entry.transaction.readWriteSet.reads));
        const base: Overlay = after?.overlay ?? new Map();
        const overlay: Overlay = new Map(base);
        const seen = new Set<string>(after?.transactionIds);
        const transactions: BlockTransaction[] = [];
        const commits: BlockCommit['transactions'][number][] = [];
        for (const [txIndex, entry] of batch.entries()) {
            const { transaction } = entry;
            let code: ValidationCode = 'VALID';
            if (duplicates.has(transaction.transactionId) || seen.has(transaction.transactionId)) {
                code = 'DUPLICATE_TXID';
            } else if (!this.readsAreCurrent(transaction, committed, overlay)) {
                code = 'MVCC_READ_CONFLICT';
            } else if (!(await this.rangesAreCurrent(transaction.readWriteSet.rangeReads, overlay))) {
                code = 'PHANTOM_READ_CONFLICT';
            }
            seen.add(transaction.transactionId);
            const valid = code === 'VALID';
            if (valid) {
                for (const write of transaction.readWriteSet.writes) {
                    overlay.set(stateId(write.namespace, write.key), write.isDelete ? null : { blockNumber: number, txIndex });
                }
            }
            transactions.push({ ...transaction, validationCode: code });
            commits.push({
                transactionId: transaction.transactionId, txIndex, validationCode: code, timestamp: transaction.proposal.timestamp,
                writes: valid ? transaction.readWriteSet.writes : [],
                metadataWrites: valid ? transaction.readWriteSet.metadataWrites : [],
                privateWrites: valid ? entry.privateWrites : [],
            });
        }
        const { block, bytes } = makeBlock(number, previousHash, { kind: 'transactions', transactions });
        // What the next block sees of this one: its writes, and only its own transaction ids
        // (those of the blocks before it are in the database by the time the next is validated).
        for (const id of base.keys()) {
            if (overlay.get(id) === base.get(id)) {
                overlay.delete(id);
            }
        }
        return {
            block, bytes, commits, overlay, transactionIds: new Set(batch.map((entry) => entry.transaction.transactionId)),
            outcomes: transactions.map((transaction) => ({ blockNumber: number, validationCode: transaction.validationCode })),
        };
    }

    private readsAreCurrent(transaction: EndorsedTransaction['transaction'], committed: Map<string, Version>, overlay: Overlay): boolean {
        return readsAreCurrent(transaction.readWriteSet.reads, (namespace, key) => {
            const id = stateId(namespace, key);
            return overlay.has(id) ? overlay.get(id) ?? null : committed.get(id) ?? null;
        });
    }

    /** Re-runs each range read against the state as it stands before this transaction. */
    private async rangesAreCurrent(ranges: readonly RangeRead[], overlay: Overlay): Promise<boolean> {
        for (const range of ranges) {
            const rows = await this.store.range(range.namespace, range.startKey, range.endKey, rangeLimit(range));
            const current = new Map<string, Version>(rows.map((row) => [row.key, row.version]));
            for (const [id, version] of overlay) {
                const [namespace, key] = splitStateId(id);
                if (namespace === range.namespace && inRange(range, key)) {
                    if (version) {
                        current.set(key, version);
                    } else {
                        current.delete(key);
                    }
                }
            }
            if (!rangeIsCurrent(range, [...current.entries()].sort(([left], [right]) => compareKeys(left, right)))) {
                return false;
            }
        }
        return true;
    }
}

export type { KeyWrite };
