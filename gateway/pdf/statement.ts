import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { loadOrCreateKey } from '../auth/key-file';

export const STATEMENT_KINDS = ['HANDOFF_PROOF', 'VERIFICATION_CERTIFICATE', 'CASE_SUMMARY'] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/**
 * What a PDF claims. The hub's signature covers the whole file the statement sits in (every
 * byte but the signature's own digits), so the verifier checks the file, then the ledger.
 */
export interface Statement {
    readonly kind: StatementKind;
    readonly issuedAt: string;
    /** The ledger as the hub saw it when it made the PDF. */
    readonly ledger: { readonly height: string; readonly tipHash: string };
    /** Which record the PDF is about, e.g. { sender, messageId }. */
    readonly subject: Readonly<Record<string, string>>;
    /** The facts the PDF states, each checkable on the ledger. */
    readonly claims: Readonly<Record<string, unknown>>;
}

/** ECDSA P-256 signatures as r‖s, always 64 bytes: the space kept for one in a file never moves. */
export const SIGNATURE_BYTES = 64;

/** The hub's proof-signing key (ECDSA P-256), separate from the token key. */
export class StatementSigner {
    private constructor(private readonly privateKey: KeyObject, readonly publicKey: KeyObject) {}

    static async open(keyFile: string): Promise<StatementSigner> {
        const privateKey = await loadOrCreateKey(keyFile);
        return new StatementSigner(privateKey, createPublicKey(privateKey));
    }

    /** Signs bytes (a whole file, its signature's place blanked). */
    sign(bytes: Uint8Array): Buffer {
        return sign('sha256', bytes, { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    }

    verify(bytes: Uint8Array, signature: Buffer): boolean {
        try {
            return verify('sha256', bytes, { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
        } catch {
            return false;
        }
    }
}
