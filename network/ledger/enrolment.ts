import type { SigningIdentity } from './ledger';

/** Who is being enrolled: the certificate's subject and the attributes the chaincode reads. */
export interface EnrolmentRequest {
    /** Common name of the certificate's subject, e.g. `officer1` or the enterprise's USCC. */
    readonly name: string;
    /** Certificate attributes, e.g. `{ role: 'enterprise', uscc: '…' }`. */
    readonly attributes?: Readonly<Record<string, string>>;
    readonly notBefore?: Date;
    readonly notAfter?: Date;
}

/** A signing identity together with its private key, for keeping it (sealed) and using it again. */
export interface EnrolledIdentity extends SigningIdentity {
    /** PKCS #8 PEM. */
    readonly privateKey: string;
}

/** Seals secrets at rest with a key kept outside the database; `context` binds a sealed value to where it is stored. */
export interface Sealer {
    seal(plain: string, context: string): string;
    unseal(sealed: string, context: string): string;
}

/**
 * The certificate authorities a party may issue from: the port through which the gateway enrols
 * its principals, whichever ledger it runs on. A party holds only the authorities it was given
 * (the embedded ledger, every organisation's; a network node, its own organisation's).
 */
export interface Enrolment {
    /** The organisations whose principals this party enrols, and so acts for. */
    readonly organisations: readonly string[];
    /** Issues a member certificate; NOT_FOUND when this party holds no authority for the organisation. */
    enrol(mspId: string, request: EnrolmentRequest): Promise<EnrolledIdentity>;
    /** Why the organisation would not accept this certificate at that time, or undefined when it would. */
    problemWith(mspId: string, certificate: string, at: Date): string | undefined;
    /** Seals the private keys of the identities it issues, for whoever keeps them. */
    readonly keys: Sealer;
}
