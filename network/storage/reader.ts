import type { EventEmitter } from 'node:events';
import type { CloseableAsyncIterable } from '../ledger';
import type { Block } from './blocks';
import { type LedgerStore, parseBlockData } from './store';

const PAGE = 100;

/**
 * Reads stored blocks from a number onwards, then each new one as it commits. A reader that
 * keeps up takes a new block as the committer hands it over; one that falls behind reads from
 * the store, so it never misses a block.
 */
export function readBlocks(store: LedgerStore, commits: EventEmitter, startBlock: number): CloseableAsyncIterable<Block> {
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
    const close = (): void => {
        closed = true;
        commits.off('block', onBlock);
        commits.off('close', close);
        wake?.();
    };
    commits.on('block', onBlock);
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
