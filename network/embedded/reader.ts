import type { EventEmitter } from 'node:events';
import type { CloseableAsyncIterable } from '../../gateway/ledger';
import type { Block } from './blocks';
import { type LedgerStore, parseBlockData } from './store';

const PAGE = 100;

/**
 * Reads stored blocks from a number onwards, then waits for each new one. Reading always goes
 * through the store, so a reader that falls behind never misses a block.
 */
export function readBlocks(store: LedgerStore, commits: EventEmitter, startBlock: number): CloseableAsyncIterable<Block> {
    let closed = false;
    let wake: (() => void) | undefined;
    const onBlock = (): void => wake?.();
    const close = (): void => {
        closed = true;
        commits.off('block', onBlock);
        commits.off('close', close);
        wake?.();
    };
    commits.on('block', onBlock);
    commits.on('close', close);
    async function* generate(): AsyncGenerator<Block> {
        let next = startBlock;
        try {
            while (!closed) {
                const signal = new Promise<void>((resolve) => { wake = resolve; });
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
                if (page.length < PAGE) {
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
