import { ledgerSchema } from './001_ledger';
import { consensusSchema } from './002_consensus';
import { privateDataSchema } from './003_private_data';

/** The ledger's tables, on the embedded ledger and on every network node. */
export const LEDGER_MIGRATIONS = [ledgerSchema, consensusSchema, privateDataSchema] as const;
