import { expect } from 'chai';
import { closedLoop, openLoop, percentiles } from '../../scripts/bench/measure';

describe('benchmark measurement', () => {
    it('takes nearest-rank percentiles', () => {
        const values = Array.from({ length: 100 }, (_, index) => index + 1);
        expect(percentiles(values)).to.deep.equal({ p50: 50, p95: 95, p99: 99, max: 100 });
        expect(percentiles([7])).to.deep.equal({ p50: 7, p95: 7, p99: 7, max: 7 });
        expect(percentiles([])).to.deep.equal({ p50: 0, p95: 0, p99: 0, max: 0 });
    });

    it('counts the operations and transactions of a closed loop, and its errors apart', async () => {
        const result = await closedLoop(4, 0.2, 3, async (_client, sequence) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            if (sequence % 10 === 9) {
                throw new Error('refused');
            }
        });
        expect(result.operations).to.be.greaterThan(20);
        expect(result.transactions).to.equal(result.operations * 3);
        expect(result.errors).to.be.greaterThan(0);
        expect(result.latencyMs.p50).to.be.at.least(4);
    });

    it('starts open-loop operations at the offered rate, and says when the rate is out of reach', async () => {
        const quick = await openLoop(200, 0.5, 1, async () => undefined);
        expect(quick.operations).to.equal(100);
        expect(quick.reachable).to.equal(true);
        const slow = await openLoop(100, 0.2, 1, () => new Promise((resolve) => setTimeout(resolve, 50)), 2);
        expect(slow.reachable).to.equal(false);
    });
});
