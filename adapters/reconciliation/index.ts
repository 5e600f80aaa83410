export { Reconciler, caseIdFor, type ReconcilerOptions, type RunReport } from './reconciler';
export { reconciliationRoutes } from './routes';
export { unconfirmedTransfers, DISCREPANCY_CLASSES, type Discrepancy, type DiscrepancyClass } from './discrepancies';

import type { Principal } from '../../gateway/auth/principal';

/** The principal reconciliation acts as on the ledger (the embedded hub's). */
export const RECONCILER = { subject: 'reconciliation', org: 'CustomsMSP', role: 'reconciler' } as const;

/**
 * The principal reconciliation acts as for a party holding these organisations' authorities:
 * customs' where it is one of them (the embedded hub, the customs node), else the agency's own.
 */
export function reconcilerFor(organisations: readonly string[]): Principal {
    const org = organisations.includes(RECONCILER.org) ? RECONCILER.org : organisations.find((mspId) => mspId !== 'EnterprisesMSP');
    if (!org) {
        throw new Error(`reconciliation acts for an agency, and this party holds none (${organisations.join(', ')})`);
    }
    return { ...RECONCILER, org };
}
