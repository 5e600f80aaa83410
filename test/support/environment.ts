/**
 * Loaded before any test file. fabric-contract-api logs every decorator at info level while the
 * chaincode loads; the tests keep its warnings and errors only.
 */
import '../../scripts/chaincode-log-level';
