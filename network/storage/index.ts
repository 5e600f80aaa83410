export { splitStateId, stateId } from './blocks';
export type { Block, BlockData, BlockHeader, BlockTransaction, ChannelConfig, ReadWriteSet, ValidationCode, Version } from './blocks';
export { type LedgerStore, parseBlockData } from './store';
export { LEDGER_MIGRATIONS } from './migrations';
