export { EmbeddedLedger, type EmbeddedLedgerOptions } from './ledger';
export { issuedBy, MembershipAuthority, signingIdentity, validityProblem, FABRIC_ATTRIBUTES_OID, type IdentityRequest, type IssuedIdentity } from './authorities';
export { verifyChain, replayDivergences, stateDivergences, type ChainReport, type ChainProblem, type StateDivergence } from './audit';
export { replayLedger, stateId, type Finding, type KeyChange, type ReplayOptions, type ReplayProgress, type ReplayResult } from './replay';
export type { Block, BlockData, BlockHeader, BlockTransaction, ChannelConfig, ReadWriteSet, ValidationCode } from './blocks';
export { type LedgerStore, parseBlockData } from './store';
