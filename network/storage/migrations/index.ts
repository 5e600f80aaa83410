import { ledgerSchema } from './001_ledger';
import { consensusSchema } from './002_consensus';

/** The ledger's tables, on the embedded ledger and on every network node. */
export const LEDGER_MIGRATIONS = [ledgerSchema, consensusSchema] as const;
