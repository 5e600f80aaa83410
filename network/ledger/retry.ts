import { CommitError } from './errors';
import type { Committed, Ledger, TransactionRequest } from './ledger';

/**
 * Validation codes of a transaction that lost a race: what it read changed before it committed.
 * Endorsed again, it reads the new state and may well commit; nothing of the first try was kept.
 */
const LOST_A_RACE: ReadonlySet<string> = new Set(['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT']);

export type ConflictRetry = Readonly<{
    /** Tries in all, the first included. */
    attempts: number;
    /** The first wait; each later one may be up to twice the one before, to `maxDelayMs`. */
    baseDelayMs: number;
    maxDelayMs: number;
    /** A number in [0, 1): where in its window each wait falls (full jitter). */
    random?: () => number;
}>;

/**
 * Enough for twenty ports verifying one licence at the same moment: each block lets one of the
 * contenders through, and the spread waits keep the rest from meeting again in the next one.
 */
export const DEFAULT_CONFLICT_RETRY: ConflictRetry = { attempts: 12, baseDelayMs: 5, maxDelayMs: 500 };

/** The default policy with `attempts` tries in all (COUNTERFOIL_CONFLICT_ATTEMPTS). */
export function conflictRetry(attempts: number): ConflictRetry {
    return { ...DEFAULT_CONFLICT_RETRY, attempts };
}

/**
 * Submits a transaction, endorsing it again (a new proposal, a new transaction id) each time it
 * is invalidated for reading state that changed under it, so that a caller sees ABORTED only
 * once every try lost. Refusals by the chaincode and other invalidations are answered at once.
 */
export async function submitRetryingConflicts(ledger: Ledger, request: TransactionRequest, retry: ConflictRetry = DEFAULT_CONFLICT_RETRY): Promise<Committed> {
    const random = retry.random ?? Math.random;
    for (let attempt = 1; ; attempt++) {
        try {
            return await ledger.submit(request);
        } catch (error) {
            if (!(error instanceof CommitError) || !LOST_A_RACE.has(error.validationCode) || attempt >= retry.attempts) {
                throw error;
            }
        }
        const window = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * window)));
    }
}
