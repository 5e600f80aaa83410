import type { Context } from 'fabric-contract-api';
import { forbidden } from './errors';
import { usccProblem } from './uscc';
import { type Agency, ENTERPRISES_MSP, isAgency, type Role, ROLES } from './vocabulary';

/**
 * Who is calling, decided only from the transaction creator's MSP and certificate attributes
 * (`role`, and `uscc` for enterprises). Agency members without a `role` attribute are operators.
 */
export type Caller =
    | { readonly kind: 'agency'; readonly mspId: Agency; readonly role: Exclude<Role, 'enterprise'>; readonly id: string }
    | { readonly kind: 'enterprise'; readonly mspId: typeof ENTERPRISES_MSP; readonly role: 'enterprise'; readonly uscc: string; readonly id: string };

export function callerOf(ctx: Context): Caller {
    const identity = ctx.clientIdentity;
    const mspId = identity.getMSPID();
    const role = identity.getAttributeValue('role') ?? undefined;
    const id = identity.getID();
    if (role !== undefined && !(ROLES as readonly string[]).includes(role)) {
        throw forbidden('caller', `certificate attribute role "${role}" is not one of ${ROLES.join(', ')}`);
    }
    if (mspId === ENTERPRISES_MSP) {
        if (role !== 'enterprise') {
            throw forbidden('caller', `members of ${ENTERPRISES_MSP} must carry the certificate attribute role=enterprise`);
        }
        const uscc = identity.getAttributeValue('uscc') ?? '';
        const problem = usccProblem(uscc);
        if (problem) {
            throw forbidden('caller', `certificate attribute uscc is not a valid Unified Social Credit Code: ${problem}`);
        }
        return { kind: 'enterprise', mspId: ENTERPRISES_MSP, role: 'enterprise', uscc, id };
    }
    if (!isAgency(mspId)) {
        throw forbidden('caller', `organisation ${mspId} is not a member of this hub`);
    }
    if (role === 'enterprise') {
        throw forbidden('caller', `role=enterprise is only for members of ${ENTERPRISES_MSP}`);
    }
    return { kind: 'agency', mspId, role: (role ?? 'operator') as Exclude<Role, 'enterprise'>, id };
}

/** The party name a caller acts as: its agency's MSP id, or its enterprise's USCC. */
export function partyOf(caller: Caller): string {
    return caller.kind === 'enterprise' ? caller.uscc : caller.mspId;
}

export function isAuditor(caller: Caller): boolean {
    return caller.role === 'auditor';
}

/** Auditors read everything and write nothing; every writing transaction starts here. */
export function requireWriter(caller: Caller): void {
    if (caller.role === 'auditor') {
        throw forbidden('caller', 'auditors may read but not write');
    }
}

export function requireAgency(caller: Caller, action: string, agencies?: readonly Agency[]): Extract<Caller, { kind: 'agency' }> {
    if (caller.kind !== 'agency') {
        throw forbidden('caller', `enterprises may not ${action}`);
    }
    if (agencies && !agencies.includes(caller.mspId)) {
        throw forbidden('caller', `${caller.mspId} may not ${action}; only ${agencies.join(' or ')} may`);
    }
    return caller;
}

export function requireRole(caller: Caller, roles: readonly Role[], action: string): void {
    if (!roles.includes(caller.role)) {
        throw forbidden('caller', `role ${caller.role} may not ${action}; it needs role ${roles.join(' or ')}`);
    }
}
