export type {
    Checkpoint, CloseableAsyncIterable, ConsensusStatus, PartyLedger, ValidatorStatus, Committed, Ledger, LedgerBlock, LedgerBlockTransaction, LedgerEvent, LedgerInfo, LedgerIntegrity, SigningIdentity, TransactionRequest,
} from './ledger';
export { CommitError, EndorseError, endorseErrorFrom, LedgerError, type LedgerErrorCode } from './errors';
export { type ConflictRetry, conflictRetry, DEFAULT_CONFLICT_RETRY, submitRetryingConflicts } from './retry';
export type { EnrolledIdentity, Enrolment, EnrolmentRequest, Sealer } from './enrolment';
export type { LedgerHistory, StoredBlock, StoredStateEntry } from './history';
