import { rm } from 'node:fs/promises';
import { stopTestServer } from './postgres';

/** Mocha root hooks: the test PostgreSQL server is started on first use and stopped at the end. */
export const mochaHooks = {
    async afterAll(this: Mocha.Context): Promise<void> {
        this.timeout(60_000);
        await stopTestServer();
        await rm(process.env.COUNTERFOIL_TEST_KEY_FILE ?? '', { force: true });
    },
};
