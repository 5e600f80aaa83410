import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { canonicalJson } from '@counterfoil/chaincode';

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
        let pem: string;
        try {
            pem = await readFile(keyFile, 'utf8');
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
                throw error;
            }
            await mkdir(dirname(keyFile), { recursive: true });
            pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
            try {
                await writeFile(keyFile, pem, { mode: 0o600, flag: 'wx' });
            } catch (writeError) {
                if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') {
                    throw writeError;
                }
                pem = await readFile(keyFile, 'utf8');
            }
        }
        const privateKey = createPrivateKey(pem);
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
