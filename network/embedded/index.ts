export { EmbeddedLedger, type EmbeddedLedgerOptions } from './ledger';
export { KeySealer } from './key-sealer';
export { readOrCreateSecretFile } from './secret-file';
export { issuedBy, type Member, MembershipAuthority, signedBy, signingIdentity, validityProblem, FABRIC_ATTRIBUTES_OID, type IdentityRequest, type IssuedIdentity } from './authorities';
export { verifyChain, replayDivergences, stateDivergences, type ChainReport, type ChainProblem, type StateDivergence, type StoredDivergence } from './audit';
export { splitStateId, stateId } from './blocks';
export { replayLedger, type Finding, type KeyChange, type ReplayOptions, type ReplayProgress, type ReplayResult } from './replay';
export type { Block, BlockData, BlockHeader, BlockTransaction, ChannelConfig, ReadWriteSet, ValidationCode } from './blocks';
export { type LedgerStore, parseBlockData } from './store';
