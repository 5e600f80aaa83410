import { AGENCIES, ENTERPRISES_MSP, isUscc } from '@counterfoil/chaincode';

export const API_ROLES = ['operator', 'admin', 'auditor', 'reconciler', 'enterprise'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** Who a request acts for, as its token says. */
export interface Principal {
    /** The user within the organisation (the certificate's common name). */
    readonly subject: string;
    readonly org: string;
    readonly role: ApiRole;
    /** Enterprises only: the Unified Social Credit Code the principal acts for. */
    readonly uscc?: string;
}

/** Why claims do not describe a principal of this hub, or undefined when they do. */
export function principalProblem(claims: Readonly<Record<string, unknown>>): string | undefined {
    const { sub, org, role, uscc } = claims;
    if (typeof sub !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(sub)) {
        return 'claim sub must be a user name of up to 64 letters, digits or . _ @ -';
    }
    if (typeof org !== 'string' || !([...AGENCIES, ENTERPRISES_MSP] as string[]).includes(org)) {
        return `claim org must be one of ${[...AGENCIES, ENTERPRISES_MSP].join(', ')}`;
    }
    if (typeof role !== 'string' || !(API_ROLES as readonly string[]).includes(role)) {
        return `claim role must be one of ${API_ROLES.join(', ')}`;
    }
    if (org === ENTERPRISES_MSP) {
        if (role !== 'enterprise') {
            return `members of ${ENTERPRISES_MSP} must have role enterprise`;
        }
        if (typeof uscc !== 'string' || !isUscc(uscc)) {
            return 'claim uscc must be a valid Unified Social Credit Code';
        }
    } else if (role === 'enterprise' || uscc !== undefined) {
        return `role enterprise and claim uscc are only for members of ${ENTERPRISES_MSP}`;
    }
    return undefined;
}

/** The party a principal acts as in the ledger's records: its agency, or its enterprise's USCC. */
/**
 * One principal as what it owns is kept under: its organisation, its enterprise's USCC if it has
 * one, and its name (two enterprises' `exporter` users are two owners).
 */
export function ownerOf(principal: Principal): string {
    return principal.uscc ? `${principal.org}/${principal.uscc}/${principal.subject}` : `${principal.org}/${principal.subject}`;
}

export function partyOf(principal: Principal): string {
    return principal.uscc ?? principal.org;
}

export function seesEverything(principal: Principal): boolean {
    return principal.role === 'auditor' || principal.role === 'reconciler';
}
