import type { CaseMessage, CaseRecord, DocumentRecord, Handoff, VerificationRecord } from '@counterfoil/chaincode';
import type { Principal } from '../auth/principal';

/** Stands for every agency in an event's audience. */
export const ALL_AGENCIES = '*agencies';

/**
 * Who may see an event, mirroring who may read the record in the chaincode: documents,
 * verifications and foreign certificates every agency and the enterprise concerned; handoffs
 * their two agencies and the subject enterprise; cases their parties. Auditors and
 * reconciliation see everything.
 */
export function audienceOf(name: string, payload: unknown): string[] {
    if (name.startsWith('Document')) {
        return [ALL_AGENCIES, (payload as DocumentRecord).holder];
    }
    if (name.startsWith('Permit') || name === 'VerificationReleased') {
        return [ALL_AGENCIES, (payload as VerificationRecord).holder];
    }
    if (name.startsWith('Handoff')) {
        const handoff = payload as Handoff;
        return [handoff.sender, handoff.recipient, handoff.subject];
    }
    if (name === 'ThreadMessageAdded') {
        return [...(payload as { parties: string[] }).parties];
    }
    if (name === 'CaseMessageAdded') {
        return []; // filled in from the case's parties by the indexer
    }
    if (name.startsWith('Case')) {
        return [...(payload as CaseRecord).parties];
    }
    if (name === 'ForeignCertificateReceived') {
        return [ALL_AGENCIES, (payload as { holder: string }).holder];
    }
    return [ALL_AGENCIES];
}

/** The audience values a principal matches. */
export function audienceTokens(principal: Principal): string[] {
    return principal.uscc ? [principal.uscc] : [principal.org, ALL_AGENCIES];
}

export type { CaseMessage };
