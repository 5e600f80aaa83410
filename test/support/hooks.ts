import { rm } from 'node:fs/promises';
import { cometbftBinary } from '../../network/cometbft/binary';
import { stopTestServer } from './postgres';

/** Mocha root hooks: cometbft is there before any test; the test PostgreSQL server is started on first use and stopped at the end. */
export const mochaHooks = {
    /** The network tests need cometbft: built once (about a minute and a half) when the pinned binary is missing. */
    async beforeAll(this: Mocha.Context): Promise<void> {
        this.timeout(30 * 60_000);
        await cometbftBinary((message) => console.log(`    ${message}`));
    },
    async afterAll(this: Mocha.Context): Promise<void> {
        this.timeout(60_000);
        await stopTestServer();
        await rm(process.env.COUNTERFOIL_TEST_KEY_FILE ?? '', { force: true });
    },
};
