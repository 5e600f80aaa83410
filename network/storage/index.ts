export { splitStateId, stateId } from './blocks';
export type { Block, BlockData, BlockHeader, BlockTransaction, ChannelConfig, ReadWriteSet, ValidationCode } from './blocks';
export { type LedgerStore, parseBlockData } from './store';
export { ledgerSchema } from './migrations/001_ledger';
