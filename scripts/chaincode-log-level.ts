/**
 * Imported first by every entry script: the chaincode libraries read their log level once, when
 * they load, and log every decorator at info level. Operators can still set it themselves.
 *
 * Once loaded, the libraries write their own name for the level back (`warn`), which they do not
 * understand when a child process reads it (they fall back to info); it is put back in Fabric's
 * words here, so child processes keep the level.
 */
const FABRIC_NAMES: Readonly<Record<string, string>> = { fatal: 'CRITICAL', error: 'ERROR', warn: 'WARNING', info: 'INFO', debug: 'DEBUG' };
const level = process.env.CORE_CHAINCODE_LOGGING_LEVEL;
process.env.CORE_CHAINCODE_LOGGING_LEVEL = level ? FABRIC_NAMES[level] ?? level : 'WARNING';

export {};
