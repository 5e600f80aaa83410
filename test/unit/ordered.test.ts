import { expect } from 'chai';
import { inKeyOrder } from '../../adapters/ordered';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('running a feed page in key order', () => {
    it('keeps records sharing a key in page order, and runs the others side by side', async () => {
        const items = [
            { id: 'doc-A', keys: ['A'], ms: 30 },
            { id: 'doc-B', keys: ['B'], ms: 5 },
            { id: 'send-A1', keys: ['A', 'm1'], ms: 5 },
            { id: 'send-B1', keys: ['B', 'm2'], ms: 5 },
            { id: 'ack-m1', keys: ['m1'], ms: 1 },
        ];
        const log: string[] = [];
        await inKeyOrder(items, (item) => item.keys, 4, async (item) => {
            log.push(`start ${item.id}`);
            await pause(item.ms);
            log.push(`end ${item.id}`);
        });
        const at = (event: string): number => log.indexOf(event);
        expect(at('start send-A1')).to.be.greaterThan(at('end doc-A'));
        expect(at('start ack-m1')).to.be.greaterThan(at('end send-A1'));
        expect(at('start send-B1')).to.be.greaterThan(at('end doc-B'));
        // B's records do not wait for the slow document A.
        expect(at('end send-B1')).to.be.lessThan(at('end doc-A'));
    });

    it('never has more records in flight than it is allowed', async () => {
        let inFlight = 0;
        let most = 0;
        await inKeyOrder(Array.from({ length: 40 }, (_, index) => index), (index) => [String(index)], 3, async () => {
            most = Math.max(most, ++inFlight);
            await pause(2);
            inFlight--;
        });
        expect(most).to.equal(3);
    });

    it('lets every started record finish, skips those behind a failure, and throws the first failure', async () => {
        const done: number[] = [];
        const attempt = inKeyOrder([0, 1, 2, 3], (index) => [index === 2 ? 'x' : index === 3 ? 'x' : `k${index}`], 4, async (index) => {
            if (index === 2) {
                throw new Error('ledger unavailable');
            }
            await pause(10);
            done.push(index);
        });
        let failure: Error | undefined;
        await attempt.catch((error: Error) => { failure = error; });
        expect(failure?.message).to.equal('ledger unavailable');
        expect(done.sort()).to.deep.equal([0, 1]);
    });
});
