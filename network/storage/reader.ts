import type { EventEmitter } from 'node:events';
import type { Checkpoint, CloseableAsyncIterable, LedgerBlock, LedgerEvent } from '../ledger';
import type { Block } from './blocks';
import { type LedgerStore, parseBlockData } from './store';

const PAGE = 100;

/**
 * Reads stored blocks from a number onwards, then each new one as it commits. A reader that
 * keeps up takes a new block as the committer hands it over; one that falls behind reads from
 * the store, so it never misses a block. With the writer's `height` (blocks committed in this
 * process), a reader that has every block waits for the next without asking the store.
 */
export function readBlocks(store: LedgerStore, commits: EventEmitter, startBlock: number, height?: () => number): CloseableAsyncIterable<Block> {
    let closed = false;
    let wake: (() => void) | undefined;
    let next = startBlock;
    /** Blocks committed since the reader last looked, when they follow on from `next` without a gap. */
    const handed: Block[] = [];
    const onBlock = (block: Block): void => {
        const expected = (handed.at(-1)?.header.number ?? next - 1) + 1;
        if (block.header.number === expected && handed.length < PAGE) {
            handed.push(block);
        }
        wake?.();
    };
    /** Another process committed (see CommitListener): the store has it. */
    const onCommitted = (): void => wake?.();
    const close = (): void => {
        closed = true;
        commits.off('committed', onCommitted);
        commits.off('block', onBlock);
        commits.off('close', close);
        wake?.();
    };
    commits.on('block', onBlock);
    commits.on('committed', onCommitted);
    commits.on('close', close);
    async function* generate(): AsyncGenerator<Block> {
        try {
            while (!closed) {
                const signal = new Promise<void>((resolve) => { wake = resolve; });
                while (handed[0] && handed[0].header.number < next) {
                    handed.shift(); // already read from the store
                }
                if (handed[0]?.header.number === next) {
                    const block = handed.shift() as Block;
                    next = block.header.number + 1;
                    yield block;
                    continue;
                }
                handed.length = 0;
                if (height && next >= height()) {
                    await signal;
                    continue;
                }
                const page = await store.blocks(next, PAGE);
                for (const stored of page) {
                    if (closed) {
                        return;
                    }
                    yield {
                        header: { number: stored.number, previousHash: stored.previousHash.toString('hex'), dataHash: stored.dataHash.toString('hex') },
                        hash: stored.headerHash.toString('hex'),
                        data: parseBlockData(stored.data),
                    };
                    next = stored.number + 1;
                }
                if (page.length < PAGE && handed.length === 0) {
                    await signal;
                }
            }
        } finally {
            close();
        }
    }
    const iterator = generate();
    return { [Symbol.asyncIterator]: () => iterator, close };
}

/** The chaincode events of valid transactions in the blocks read, resuming after a checkpoint's transaction. */
export function ledgerEvents(blocks: CloseableAsyncIterable<Block>, start: Checkpoint): CloseableAsyncIterable<LedgerEvent> {
    async function* generate(): AsyncGenerator<LedgerEvent> {
        let skipping = start.transactionId !== undefined;
        for await (const block of blocks) {
            if (block.data.kind !== 'transactions') {
                continue;
            }
            for (const [index, transaction] of block.data.transactions.entries()) {
                if (skipping && block.header.number === Number(start.blockNumber)) {
                    if (transaction.transactionId === start.transactionId) {
                        skipping = false;
                    }
                    continue;
                }
                if (transaction.validationCode === 'VALID' && transaction.event) {
                    yield {
                        blockNumber: BigInt(block.header.number), transactionId: transaction.transactionId, transactionIndex: index,
                        timestamp: transaction.proposal.timestamp, name: transaction.event.name, payload: Buffer.from(transaction.event.payload, 'base64'),
                    };
                }
            }
            skipping = false;
        }
    }
    const iterator = generate();
    return { [Symbol.asyncIterator]: () => iterator, close: () => blocks.close() };
}

/** The blocks read, as the ledger port describes them. */
export function blockSummaries(blocks: CloseableAsyncIterable<Block>): CloseableAsyncIterable<LedgerBlock> {
    async function* summarise(): AsyncGenerator<LedgerBlock> {
        for await (const block of blocks) {
            yield summary(block);
        }
    }
    const iterator = summarise();
    return { [Symbol.asyncIterator]: () => iterator, close: () => blocks.close() };
}

function summary(block: Block): LedgerBlock {
    const transactions = block.data.kind === 'transactions' ? block.data.transactions : [];
    return {
        number: BigInt(block.header.number),
        previousHash: block.header.previousHash,
        dataHash: block.header.dataHash,
        transactions: transactions.map((transaction) => ({
            transactionId: transaction.transactionId,
            creatorMspId: transaction.proposal.creator.mspId,
            timestamp: transaction.proposal.timestamp,
            validationCode: transaction.validationCode,
            event: transaction.event ? { name: transaction.event.name, payload: Buffer.from(transaction.event.payload, 'base64') } : undefined,
        })),
    };
}
