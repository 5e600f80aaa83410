import { verify, X509Certificate } from 'node:crypto';
import { invalidArgument } from '../common/errors';
import type { Fields } from '../common/fields';

/** A foreign authority's signing certificate as the registry keeps it. */
export interface SignerRecord {
    /** SHA-256 of the certificate's DER, lowercase hex: how a signature names its signer. */
    readonly fingerprint: string;
    readonly subject: string;
    readonly issuer: string;
    readonly serialNumber: string;
    /** The certificate's own validity. */
    readonly notBefore: string;
    readonly notAfter: string;
    /** When customs accepts signatures by it: within the certificate's own validity. */
    readonly validFrom: string;
    readonly validTo: string;
    /** The certificate, DER in base64. */
    readonly certificate: string;
    readonly addedAt: string;
    readonly addedBy: string;
    /** Signatures made at or after this time are not accepted (a replaced or compromised key). */
    readonly retiredAt?: string;
    readonly retiredReason?: string;
}

/** Who signed, as the verdict records it. */
export type SignerIdentity = Pick<SignerRecord, 'fingerprint' | 'subject' | 'issuer' | 'serialNumber' | 'notBefore' | 'notAfter'>;

/** One reason a foreign certificate's signature is not what customs has on file: what was expected, what was found. */
export interface Finding {
    readonly code: 'SIGNATURE_INVALID' | 'SIGNER_NOT_ON_FILE' | 'SIGNER_NOT_VALID_AT_SIGNING' | 'SIGNER_RETIRED' | 'SIGNED_IN_FUTURE';
    readonly expected: string;
    readonly found: string;
}

/** XML-DSig signature methods accepted, and the digest each signs with (RSA, PKCS #1 v1.5). */
export const SIGNATURE_METHODS = {
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': 'sha256',
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': 'sha512',
} as const;
export type SignatureMethod = keyof typeof SIGNATURE_METHODS;

/** Base64 of DER: at most 16 KiB of certificate. */
const MAX_CERTIFICATE_CHARACTERS = 22_000;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64Problem(value: string, maxCharacters: number): string | undefined {
    if (value.length === 0 || value.length > maxCharacters || !BASE64.test(value)) {
        return `must be base64, 1 to ${maxCharacters} characters`;
    }
    return undefined;
}

/** A request field of base64, decoded. */
export function readBase64(fields: Fields, name: string, maxCharacters: number, what = ''): Buffer {
    const value = fields.string(name, { maxLength: maxCharacters });
    const problem = base64Problem(value, maxCharacters);
    if (problem) {
        throw invalidArgument(fields.fieldPath(name), `${problem}${what}`);
    }
    return Buffer.from(value, 'base64');
}

/** An X.509 certificate from a field holding its DER in base64, with what the registry and verdicts record of it. */
export function readCertificate(fields: Fields, name: string): { certificate: X509Certificate; identity: SignerIdentity; der: string } {
    const der = readBase64(fields, name, MAX_CERTIFICATE_CHARACTERS, ' (an X.509 certificate, DER)');
    const field = fields.fieldPath(name);
    let certificate: X509Certificate;
    try {
        certificate = new X509Certificate(der);
    } catch {
        throw invalidArgument(field, 'must be an X.509 certificate (DER, base64)');
    }
    if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
        throw invalidArgument(field, `must hold an RSA key (signatures are RSA with SHA-256 or SHA-512); this one holds ${certificate.publicKey.asymmetricKeyType ?? 'an unknown key'}`);
    }
    return {
        certificate,
        der: certificate.raw.toString('base64'),
        identity: {
            fingerprint: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
            subject: distinguishedName(certificate.subject),
            issuer: distinguishedName(certificate.issuer),
            serialNumber: certificate.serialNumber.toLowerCase(),
            notBefore: new Date(certificate.validFrom).toISOString(),
            notAfter: new Date(certificate.validTo).toISOString(),
        },
    };
}

/** Node prints a name one attribute a line; the record keeps it on one, most significant first as written. */
function distinguishedName(text: string): string {
    return text.split('\n').filter((part) => part.length > 0).join(', ');
}

/** Whether `signatureValue` (base64) is the signer's signature over the canonical SignedInfo. */
export function signedInfoVerifies(certificate: X509Certificate, method: SignatureMethod, signedInfo: Buffer, signatureValue: Buffer): boolean {
    try {
        return verify(SIGNATURE_METHODS[method], signedInfo, certificate.publicKey, signatureValue);
    } catch {
        return false;
    }
}

/** Allowance for clocks: a signature up to this much after the transaction is not "in the future". */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

function described(signer: SignerIdentity): string {
    return `${signer.subject} (SHA-256 ${signer.fingerprint}), issued by ${signer.issuer}`;
}

/**
 * What is wrong, if anything, with a signature by `signer` made at `signedAt` for an authority
 * whose signing certificates on file are `registered`, judged at transaction time `now`.
 */
export function judgeSigner(authorityId: string, registered: readonly SignerRecord[], signer: SignerIdentity, signedAt: string, now: string): Finding[] {
    const findings: Finding[] = [];
    if (Date.parse(signedAt) > Date.parse(now) + CLOCK_SKEW_MS) {
        findings.push({ code: 'SIGNED_IN_FUTURE', expected: `a signing time no later than the receipt at ${now}`, found: `signed at ${signedAt}` });
    }
    const onFile = registered.find((candidate) => candidate.fingerprint === signer.fingerprint);
    if (!onFile) {
        const expected = registered.length === 0
            ? `a signing certificate on file for ${authorityId}, which has none`
            : `one of the signing certificates on file for ${authorityId}: ${registered.map(described).join('; ')}`;
        findings.push({ code: 'SIGNER_NOT_ON_FILE', expected, found: described(signer) });
        return findings;
    }
    if (signedAt < onFile.validFrom || signedAt >= onFile.validTo) {
        findings.push({
            code: 'SIGNER_NOT_VALID_AT_SIGNING',
            expected: `a signature made from ${onFile.validFrom} until ${onFile.validTo}, when ${authorityId} signs with ${onFile.subject}`,
            found: `signed at ${signedAt}`,
        });
    }
    if (onFile.retiredAt !== undefined && signedAt >= onFile.retiredAt) {
        findings.push({
            code: 'SIGNER_RETIRED',
            expected: `a signature made before ${onFile.retiredAt}, when ${authorityId} retired ${onFile.subject} (${onFile.retiredReason ?? 'no reason given'})`,
            found: `signed at ${signedAt}`,
        });
    }
    return findings;
}
