/**
 * Loaded before any test file. fabric-contract-api logs every decorator at info level while the
 * chaincode loads; the tests keep its warnings and errors only.
 */
import { tmpdir } from 'node:os';
import '../../scripts/chaincode-log-level';

/** The key-encryption key file the run's ledgers share (see keys.ts); removed by the root hooks. */
process.env.COUNTERFOIL_TEST_KEY_FILE ??= `${tmpdir()}/counterfoil-test-key-${process.pid}-${Date.now()}`;
