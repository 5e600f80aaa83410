import { expect } from 'chai';
import type { Pool } from 'pg';
import { StubHarness, text } from './harness';

/** Counts the queries that read world-state keys for simulations, and can make the next one fail. */
function watchReads(pool: Pool): { readonly count: () => number; failNext: (error: Error) => void; restore: () => void } {
    const original = pool.query.bind(pool) as (...parameters: unknown[]) => Promise<unknown>;
    let reads = 0;
    let failure: Error | undefined;
    (pool as unknown as { query: (...parameters: unknown[]) => Promise<unknown> }).query = (...parameters: unknown[]) => {
        const text = typeof parameters[0] === 'string' ? parameters[0] : '';
        if (text.includes('WITH ORDINALITY AS wanted')) {
            reads++;
            if (failure) {
                const error = failure;
                failure = undefined;
                return Promise.reject(error);
            }
        }
        return original(...parameters);
    };
    return {
        count: () => reads,
        failNext: (error) => { failure = error; },
        restore: () => { (pool as unknown as { query: unknown }).query = original; },
    };
}

describe('the embedded ledger reads state for simulations side by side', function () {
    this.timeout(60_000);
    let harness: StubHarness;

    before(async () => {
        harness = await StubHarness.create(0);
        await harness.run(async (stub) => {
            for (let index = 0; index < 10; index++) {
                await stub.putState(`key-${index}`, Buffer.from(`value ${index}`));
            }
        });
    });

    after(async () => {
        await harness?.close();
    });

    it('answers the reads of twenty simulations, present keys and absent ones, in fewer queries than reads, each with its own key', async () => {
        const reads = watchReads(harness.database.pool);
        try {
            const keys = Array.from({ length: 20 }, (_, index) => `key-${index}`); // key-10 … key-19 do not exist
            const values = await Promise.all(keys.map(async (key) => text(await harness.stub().getState(key))));
            expect(values).to.deep.equal(keys.map((_, index) => (index < 10 ? `value ${index}` : '')));
            expect(reads.count()).to.be.within(1, 3);
        } finally {
            reads.restore();
        }
    });

    it('fails only the reads of a query that fails; the next reads are answered', async () => {
        const reads = watchReads(harness.database.pool);
        try {
            reads.failNext(new Error('the connection was lost'));
            const failed = await Promise.allSettled(['key-1', 'key-2'].map((key) => harness.stub().getState(key)));
            expect(failed.map((outcome) => outcome.status)).to.deep.equal(['rejected', 'rejected']);
            expect(text(await harness.stub().getState('key-3'))).to.equal('value 3');
        } finally {
            reads.restore();
        }
    });
});
