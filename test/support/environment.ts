/**
 * Loaded before any test file. fabric-contract-api logs every decorator at info level while the
 * chaincode loads; the tests keep its warnings and errors only.
 */
process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'WARNING';
