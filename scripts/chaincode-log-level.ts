/**
 * Imported first by every entry script: the chaincode libraries read their log level once, when
 * they load, and log every decorator at info level. Operators can still set it themselves.
 */
process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'WARNING';

export {};
