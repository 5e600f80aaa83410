/**
 * Runs `work` over `items` with up to `concurrency` at a time, keeping order where it matters: an
 * item starts only after every earlier item sharing one of its keys has finished. (A handoff waits
 * for the document it carries; two records of one message run one after the other.)
 *
 * An item whose predecessor failed is not tried. Every started item is let finish; then the first
 * failure in item order is thrown, so a caller that advances a cursor after a page knows the whole
 * page went through.
 */
export async function inKeyOrder<T>(
    items: readonly T[],
    keysOf: (item: T) => readonly string[],
    concurrency: number,
    work: (item: T) => Promise<void>,
): Promise<void> {
    const last = new Map<string, Promise<unknown>>();
    let running = 0;
    const waiting: Array<() => void> = [];
    const slot = async (): Promise<void> => {
        if (running < concurrency) {
            running++;
            return;
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
    };
    const release = (): void => {
        const next = waiting.shift();
        if (next) {
            next(); // the slot passes straight to the next in line
        } else {
            running--;
        }
    };
    const all = items.map((item) => {
        const keys = keysOf(item);
        const before = keys.map((key) => last.get(key)).filter((promise) => promise !== undefined);
        const done = (async () => {
            // After an earlier item sharing a key failed, this one is not tried: it would find
            // what it depends on missing. The page fails, and is read again.
            if ((await Promise.allSettled(before)).some((outcome) => outcome.status === 'rejected')) {
                throw new Error('an earlier record it depends on failed');
            }
            await slot();
            try {
                await work(item);
            } finally {
                release();
            }
        })();
        for (const key of keys) {
            last.set(key, done);
        }
        return done;
    });
    const outcomes = await Promise.allSettled(all);
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) {
        throw failed.reason;
    }
}
