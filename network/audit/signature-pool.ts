import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** Blocks sent to a worker at once. */
const BATCH = 16;

/**
 * Checks proposals' signatures on the machine's other cores while the replay goes on with
 * everything else: each stored block's data goes to a worker, which answers, per transaction,
 * whether its creator signed its proposal.
 */
export class SignaturePool {
    private readonly workers: Worker[];
    private readonly waiting = new Map<number, { resolve: (answers: Uint8Array[]) => void; reject: (error: Error) => void }>();
    private nextId = 0;
    private nextWorker = 0;

    constructor(size = availableParallelism()) {
        this.workers = Array.from({ length: Math.max(1, size) }, () => {
            const worker = new Worker(join(__dirname, 'signature-worker.js'));
            worker.on('message', (answer: { id: number; answers: Uint8Array[] }) => {
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

    /** Each block's verdicts (1: signed by its creator), by block number, as they come. */
    verify(blocks: readonly { readonly number: number; readonly data: Buffer }[]): Map<number, Promise<Uint8Array>> {
        const verdicts = new Map<number, Promise<Uint8Array>>();
        for (let start = 0; start < blocks.length; start += BATCH) {
            const batch = blocks.slice(start, start + BATCH);
            const id = this.nextId++;
            const answers = new Promise<Uint8Array[]>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
            const worker = this.workers[this.nextWorker++ % this.workers.length] as Worker;
            worker.postMessage({ id, blocks: batch.map((block) => block.data) });
            batch.forEach((block, index) => {
                const verdict = answers.then((all) => all[index] as Uint8Array);
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
