import { expect } from 'chai';
import { Wakeup } from '../../gateway/wakeup';

describe('a worker\'s wakeable pause', () => {
    it('ends a sleep when woken', async () => {
        const wakeup = new Wakeup();
        const slept = wakeup.sleep(3_600_000);
        wakeup.wake();
        await slept;
    });

    it('keeps a wake that came while nobody slept, for the next sleep only', async () => {
        const wakeup = new Wakeup();
        wakeup.wake();
        await wakeup.sleep(3_600_000);
        let ended = false;
        const next = wakeup.sleep(3_600_000).then(() => { ended = true; });
        await new Promise((resolve) => setImmediate(resolve));
        expect(ended, 'one wake ends one sleep').to.equal(false);
        wakeup.wake();
        await next;
    });
});
