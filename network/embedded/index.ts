export { EmbeddedLedger, type EmbeddedLedgerOptions } from './ledger';
