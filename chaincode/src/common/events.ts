import type { Context } from 'fabric-contract-api';
import { canonicalBytes } from './canonical';

/**
 * Every state change emits exactly one chaincode event (Fabric keeps only the last event a
 * transaction sets). The name says what happened; the payload is the affected record, and every
 * other record the transaction changed rides along, so that readers of events alone can keep
 * every record current: a verification that draws down or releases a permit carries the permit
 * as it now stands in `permitDocument`; a case message carries its case (with its new message
 * count) in `caseRecord`, and so does a foreign certificate whose verdict opened a case.
 */
export const EVENT_NAMES = [
    'DocumentIssued',
    'DocumentAmended',
    'DocumentRevoked',
    'PermitVerified',
    'PermitRejected',
    'VerificationReleased',
    'HandoffSent',
    'HandoffReceived',
    'HandoffMismatch',
    'HandoffAccepted',
    'HandoffRejected',
    'HandoffRetransmitted',
    'HandoffCancelled',
    'CaseOpened',
    'CaseMessageAdded',
    'CaseResolved',
    'CaseWithdrawn',
    'ThreadMessageAdded',
    'DeadlinePolicySet',
    'AuthorityChanged',
    'ForeignCertificateReceived',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export interface CounterfoilEvent<T = unknown> {
    readonly name: EventName;
    readonly payload: T;
}

export function emit(ctx: Context, name: EventName, payload: unknown): void {
    ctx.stub.setEvent(name, canonicalBytes(payload));
}
