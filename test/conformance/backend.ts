import type { Ledger, SigningIdentity } from '../../network/ledger';

export interface IdentityRequest {
    readonly name: string;
    readonly role?: string;
    readonly uscc?: string;
}

/** One ledger implementation under test, with what the suite needs beyond the Ledger interface. */
export interface LedgerBackend {
    readonly name: string;
    readonly ledger: Ledger;
    /** Enrols a user of an organisation with the given certificate attributes. */
    identity(mspId: string, request: IdentityRequest): Promise<SigningIdentity>;
    /** Changes whenever anything on the ledger changes: used to show a refusal changed nothing. */
    fingerprint(): Promise<string>;
    close(): Promise<void>;
}

export type BackendFactory = Readonly<{ name: string; create(): Promise<LedgerBackend> }>;
