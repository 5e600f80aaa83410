import type { Pool } from 'pg';
import type { IdentityProvider } from './auth/identities';
import type { Principal } from './auth/principal';
import type { TokenService } from './auth/tokens';
import type { Indexer } from './indexer/indexer';
import { type Committed, type ConflictRetry, type PartyLedger, submitRetryingConflicts } from '../network/ledger';

/** What route handlers work with. */
export interface Services {
    readonly ledger: PartyLedger;
    readonly pool: Pool;
    readonly identities: IdentityProvider;
    readonly indexer: Indexer;
    readonly tokens: TokenService;
    /** How often a transaction that lost a read conflict is endorsed again before ABORTED is answered. */
    readonly conflictRetry: ConflictRetry;
}

/** How long a write waits for the query tables to show it before answering anyway. */
const INDEX_WAIT_MS = 5000;

/** Submits a chaincode transaction as the principal's own ledger identity. */
export async function submitAs<T>(
    services: Services, principal: Principal, contract: string, transaction: string, request: unknown, transient?: Record<string, Uint8Array>,
): Promise<{ record: T; committed: Committed }> {
    const identity = await services.identities.identityFor(principal);
    const committed = await submitRetryingConflicts(services.ledger, { identity, contract, transaction, arguments: [JSON.stringify(request)], transient }, services.conflictRetry);
    // Read-your-writes: lists and traces come from the query tables.
    await services.indexer.caughtUp(committed.blockNumber, INDEX_WAIT_MS).catch(() => undefined);
    return { record: JSON.parse(Buffer.from(committed.result).toString('utf8')) as T, committed };
}

export async function evaluateAs<T>(services: Services, principal: Principal, contract: string, transaction: string, request: unknown): Promise<T> {
    const identity = await services.identities.identityFor(principal);
    const result = await services.ledger.evaluate({ identity, contract, transaction, arguments: [JSON.stringify(request)] });
    return JSON.parse(Buffer.from(result).toString('utf8')) as T;
}
