import { KeySealer } from '../../network/membership';

/**
 * The key-encryption key of every ledger the tests open: one file for the run, named in the
 * environment so that processes the tests start (the crash test's worker) open their ledgers
 * with it too.
 */
export function testKeys(): Promise<KeySealer> {
    const file = process.env.COUNTERFOIL_TEST_KEY_FILE;
    if (!file) {
        throw new Error('COUNTERFOIL_TEST_KEY_FILE is not set: test/support/environment.js sets it');
    }
    return KeySealer.open(file);
}
