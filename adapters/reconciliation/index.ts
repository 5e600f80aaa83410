export { Reconciler, caseIdFor, type ReconcilerOptions, type RunReport } from './reconciler';
export { reconciliationRoutes } from './routes';
export { unconfirmedTransfers, DISCREPANCY_CLASSES, type Discrepancy, type DiscrepancyClass } from './discrepancies';

/** The principal reconciliation acts as on the ledger. */
export const RECONCILER = { subject: 'reconciliation', org: 'CustomsMSP', role: 'reconciler' } as const;
