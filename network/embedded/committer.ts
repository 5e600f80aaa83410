import { EventEmitter } from 'node:events';
import type { PoolClient } from 'pg';
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

/**
 * Orders endorsed transactions into blocks and commits them one block at a time. While a block
 * is being written, new transactions queue up and form the next block, so the block size follows
 * the load. Each block, its transactions' validation codes and every state change it makes are
 * written in one PostgreSQL statement: a block is either wholly durable or absent.
 */
export class Committer {
    private readonly queue: Pending[] = [];
    private running = false;
    private closed = false;
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
            void this.drain();
        });
    }

    /** Stops taking transactions and waits for the block being written. */
    async close(): Promise<void> {
        this.closed = true;
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
            while (this.queue.length > 0) {
                const batch = this.queue.splice(0, this.maxBlockTransactions);
                try {
                    const outcomes = await this.commitBlock(batch.map((pending) => pending.endorsed));
                    batch.forEach((pending, index) => pending.resolve(outcomes[index] as CommitOutcome));
                } catch (error) {
                    for (const pending of batch) {
                        pending.reject(error as Error);
                    }
                    await this.resync();
                }
            }
        } finally {
            this.running = false;
            this.blocks.emit('idle');
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
    private async commitBlock(batch: readonly EndorsedTransaction[]): Promise<CommitOutcome[]> {
        for (let attempt = 1; ; attempt++) {
            let attempted: { block: Block; outcomes: CommitOutcome[] } | undefined;
            try {
                return await this.writeBlock(batch, (block, outcomes) => { attempted = { block, outcomes }; });
            } catch (error) {
                if (attempt >= 5 || await this.session.healthy()) {
                    throw error; // a real failure, not a lost connection
                }
                await this.session.client();
                const [stored] = await this.store.blocks(this.height, 1);
                if (stored && attempted && stored.headerHash.toString('hex') === attempted.block.hash) {
                    this.advance(attempted.block);
                    return attempted.outcomes;
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
     * Validates a block's transactions against committed state and writes it. The committer is the
     * ledger's one writer, so committed state cannot move between these reads and the write; the
     * write is one statement, atomic on its own.
     */
    private async writeBlock(batch: readonly EndorsedTransaction[], attempting: (block: Block, outcomes: CommitOutcome[]) => void): Promise<CommitOutcome[]> {
        const number = this.height;
        // On the committer's own connection: the pool's may all be busy with simulations.
        const client = await this.session.client();
        const duplicates = await this.store.transactionExists(batch.map((entry) => entry.transaction.transactionId), client);
        const committed = await this.store.versions(batch.flatMap((entry) => entry.transaction.readWriteSet.reads), client);
        const overlay: Overlay = new Map();
        const seen = new Set<string>();
        const transactions: BlockTransaction[] = [];
        const commits: BlockCommit['transactions'][number][] = [];
        for (const [txIndex, entry] of batch.entries()) {
            const { transaction } = entry;
            let code: ValidationCode = 'VALID';
            if (duplicates.has(transaction.transactionId) || seen.has(transaction.transactionId)) {
                code = 'DUPLICATE_TXID';
            } else if (!this.readsAreCurrent(transaction, committed, overlay)) {
                code = 'MVCC_READ_CONFLICT';
            } else if (!(await this.rangesAreCurrent(client, transaction.readWriteSet.rangeReads, overlay))) {
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
        const { block, bytes } = makeBlock(number, this.previousHash, { kind: 'transactions', transactions });
        const outcomes = transactions.map((transaction) => ({ blockNumber: number, validationCode: transaction.validationCode }));
        attempting(block, outcomes);
        await this.store.commit(client, { block, bytes, transactions: commits });
        this.advance(block);
        return outcomes;
    }

    private readsAreCurrent(transaction: EndorsedTransaction['transaction'], committed: Map<string, Version>, overlay: Overlay): boolean {
        return readsAreCurrent(transaction.readWriteSet.reads, (namespace, key) => {
            const id = stateId(namespace, key);
            return overlay.has(id) ? overlay.get(id) ?? null : committed.get(id) ?? null;
        });
    }

    /** Re-runs each range read against the state as it stands before this transaction. */
    private async rangesAreCurrent(client: PoolClient, ranges: readonly RangeRead[], overlay: Overlay): Promise<boolean> {
        for (const range of ranges) {
            const rows = await this.store.range(range.namespace, range.startKey, range.endKey, rangeLimit(range), client);
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
