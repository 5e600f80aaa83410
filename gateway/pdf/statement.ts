import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from '@counterfoil/chaincode';
import { loadOrCreateKey } from '../auth/key-file';

export const STATEMENT_KINDS = ['HANDOFF_PROOF', 'VERIFICATION_CERTIFICATE', 'CASE_SUMMARY'] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/** What a PDF claims, signed by the hub: the verifier checks the signature, the pages, then the ledger. */
export interface Statement {
    readonly kind: StatementKind;
    readonly issuedAt: string;
    /** The ledger as the hub saw it when it made the PDF. */
    readonly ledger: { readonly height: string; readonly tipHash: string };
    /** Which record the PDF is about, e.g. { sender, messageId }. */
    readonly subject: Readonly<Record<string, string>>;
    /** The facts the PDF states, each checkable on the ledger. */
    readonly claims: Readonly<Record<string, unknown>>;
    /** SHA-256 of the page content streams, binding the visible text to the statement. */
    readonly contentDigest: string;
}

/** The hub's proof-signing key (ECDSA P-256), separate from the token key. */
export class StatementSigner {
    private constructor(private readonly privateKey: KeyObject, readonly publicKey: KeyObject) {}

    static async open(keyFile: string): Promise<StatementSigner> {
        const privateKey = await loadOrCreateKey(keyFile);
        return new StatementSigner(privateKey, createPublicKey(privateKey));
    }

    sign(statement: Statement): Buffer {
        return sign('sha256', Buffer.from(canonicalJson(statement)), this.privateKey);
    }

    verify(statement: Statement, signature: Buffer): boolean {
        try {
            return verify('sha256', Buffer.from(canonicalJson(statement)), this.publicKey, signature);
        } catch {
            return false;
        }
    }
}

export function sha256Hex(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
}
