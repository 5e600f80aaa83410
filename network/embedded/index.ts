export { EmbeddedLedger, type EmbeddedLedgerOptions } from './ledger';
export { MembershipAuthority, signingIdentity, FABRIC_ATTRIBUTES_OID, type IdentityRequest, type IssuedIdentity } from './authorities';
export { verifyChain, replayDivergences, type ChainReport, type ChainProblem, type StateDivergence } from './audit';
export type { Block, BlockData, BlockHeader, BlockTransaction, ChannelConfig, ReadWriteSet, ValidationCode } from './blocks';
