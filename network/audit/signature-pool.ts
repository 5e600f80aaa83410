import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export { ID_DERIVED, SIGNED } from './signature-worker';

/** What a worker found of a block: its data's SHA-256, and a verdict per transaction (SIGNED, ID_DERIVED bits). */
export interface BlockVerdicts {
    readonly dataHash: string;
    readonly verdicts: Uint8Array;
}

/** Blocks sent to a worker at once. */
const BATCH = 16;

/**
 * Hashes blocks and checks proposals' signatures and ids on the machine's cores while the replay
 * goes on with everything else: each stored block's data goes to a worker, which answers its
 * data's hash and, per transaction, whether its creator signed its proposal and its id derives
 * from it.
 */
export class SignaturePool {
    private readonly workers: Worker[];
    private readonly waiting = new Map<number, { resolve: (answers: BlockVerdicts[]) => void; reject: (error: Error) => void }>();
    private nextId = 0;
    private nextWorker = 0;

    constructor(size = availableParallelism()) {
        this.workers = Array.from({ length: Math.max(1, size) }, () => {
            const worker = new Worker(join(__dirname, 'signature-worker.js'));
            worker.on('message', (answer: { id: number; answers: BlockVerdicts[] }) => {
                this.waiting.get(answer.id)?.resolve(answer.answers);
                this.waiting.delete(answer.id);
            });
            worker.on('error', (error) => {
                for (const pending of this.waiting.values()) {
                    pending.reject(error);
                }
                this.waiting.clear();
            });
            worker.unref();
            return worker;
        });
    }

    /** Each block's data hash and its transactions' verdicts, by block number, as they come. */
    verify(blocks: readonly { readonly number: number; readonly data: Buffer | string }[]): Map<number, Promise<BlockVerdicts>> {
        const verdicts = new Map<number, Promise<BlockVerdicts>>();
        for (let start = 0; start < blocks.length; start += BATCH) {
            const batch = blocks.slice(start, start + BATCH);
            const id = this.nextId++;
            const answers = new Promise<BlockVerdicts[]>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
            const worker = this.workers[this.nextWorker++ % this.workers.length] as Worker;
            worker.postMessage({ id, blocks: batch.map((block) => block.data) });
            batch.forEach((block, index) => {
                const verdict = answers.then((all) => all[index] as BlockVerdicts);
                // A replay that stops early never asks for some: their failure is not unhandled.
                verdict.catch(() => undefined);
                verdicts.set(block.number, verdict);
            });
        }
        return verdicts;
    }

    async close(): Promise<void> {
        await Promise.all(this.workers.map((worker) => worker.terminate()));
    }
}
