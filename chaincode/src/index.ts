import { CASE, CASE_MESSAGE, CaseContract } from './cases/contract';
import { CanonicalJsonSerializer } from './common/canonical';
import { DocumentContract } from './documents/contract';
import { DOCUMENT, DOCUMENT_HEAD } from './documents/records';
import { AUTHORITY, AUTHORITY_VERSION, AuthorityContract } from './foreign/authorities';
import { FOREIGN_CERTIFICATE, ForeignCertificateContract } from './foreign/certificates';
import { HandoffContract } from './handoffs/contract';
import { CONFIRMATION, HANDOFF } from './handoffs/records';
import { PolicyContract } from './policies/contract';
import { DEADLINE_POLICY } from './policies/deadlines';
import { THREAD_HEAD, THREAD_MESSAGE, ThreadContract } from './threads/contract';
import { VERIFICATION, VerificationContract } from './verifications/contract';

/** What `fabric-chaincode-node` loads: the contracts and the serializer they answer with. */
export const contracts = [DocumentContract, VerificationContract, HandoffContract, CaseContract, PolicyContract, ThreadContract, AuthorityContract, ForeignCertificateContract];

export const serializers = {
    transaction: 'canonicalJson',
    serializers: { canonicalJson: CanonicalJsonSerializer },
};

export { AuthorityContract, CaseContract, DocumentContract, ForeignCertificateContract, HandoffContract, PolicyContract, ThreadContract, VerificationContract };
export { canonicalBytes, canonicalJson, CanonicalJsonSerializer } from './common/canonical';
export { checkTimestamp, EARLIEST_TIME, escapeUnstorable, Fields, type IntegerRule, LATEST_TIME, storableCopy, type StringRule, unstorableIn, unstorableText } from './common/fields';
export { ChaincodeError, ERROR_CODES, type ErrorCode, parseChaincodeError, type ParsedChaincodeError } from './common/errors';
export { EVENT_NAMES, type EventName, type CounterfoilEvent } from './common/events';
export { transientSha256, withheldSha256, withheldValue, type WithheldValue, WITHHELD_SHA256 } from './common/transient';
export { isUscc, usccCheckCharacter, usccProblem } from './common/uscc';
export * from './common/vocabulary';
export type { Page } from './common/state';
export type { DocumentRecord, DocumentStatus, GoodsLine, PermitTerms } from './documents/records';
export type { VerificationRecord, Balance } from './verifications/contract';
export { judge, allowance, REASON_CODES, type ReasonCode, type Reason, type Declaration } from './verifications/verdict';
export type { Handoff, HandoffStatus } from './handoffs/records';
export { type CaseRecord, type CaseMessage, type CaseReason, type CaseStatus, type CaseSubject, subjectAttributes as caseSubjectParts } from './cases/contract';
export type { DeadlinePolicy, Deadlines } from './policies/deadlines';
export { type ThreadMessage, threadParties } from './threads/contract';
export { ATTACHMENT_TYPES, type AttachmentDigest, type AttachmentType, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS } from './threads/attachments';
export { DEFAULT_DEADLINES } from './policies/deadlines';
export { AUTHORITY_ID_RULE, type AuthorityRecord, EMAIL_ADDRESS } from './foreign/authorities';
export { FOREIGN_CERTIFICATE_KINDS, type ForeignCertificateKind, type ForeignCertificateRecord } from './foreign/certificates';
export { type Finding, SIGNATURE_METHODS, type SignatureMethod, type SignerIdentity, type SignerRecord } from './foreign/signers';

/**
 * The world state's object types (the first part of each composite key), for readers of the
 * ledger's blocks and state such as auditors; `combineHandoff` makes one record of a handoff's
 * two halves, as the chaincode answers it.
 */
export const OBJECT_TYPES = {
    document: DOCUMENT, documentHead: DOCUMENT_HEAD, verification: VERIFICATION, handoff: HANDOFF, confirmation: CONFIRMATION,
    case: CASE, caseMessage: CASE_MESSAGE, deadlinePolicy: DEADLINE_POLICY, threadHead: THREAD_HEAD, threadMessage: THREAD_MESSAGE,
    authority: AUTHORITY, authorityVersion: AUTHORITY_VERSION, foreignCertificate: FOREIGN_CERTIFICATE,
} as const;
export { combine as combineHandoff, type Confirmation, type Dispatch } from './handoffs/records';
export { versionKeyPart } from './documents/records';
export { balanceOf } from './verifications/contract';
