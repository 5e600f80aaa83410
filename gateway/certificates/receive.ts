import { LedgerError } from '../../network/ledger';
import { examineSignedCertificate, PARTICULARS } from './signed-xml';

/**
 * What the ledger's `foreign-certificates.Receive` is sent for a signed certificate as received:
 * the verdict's inputs in the request, the signed XML itself as the transient `content` (it goes
 * only to the certificate collection's members). Throws RefusedDocument for XML it will not read.
 */
export function receiveRequest(xml: Buffer): { request: Record<string, unknown>; transient: Record<string, Uint8Array> } {
    const { signerCertificate, signature, ...particulars } = examineSignedCertificate(xml);
    return { request: { ...particulars, signerCertificate, signature }, transient: { content: xml } };
}

/** A certificate given as PEM or as base64 DER, as DER in base64 (what the ledger takes). */
export function certificateDer(text: string): string {
    const pem = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----\s*$/.exec(text.trim());
    return pem ? (pem[1] as string).replace(/\s+/g, '') : text.trim();
}

/**
 * A refusal of what the certificate says (a consignee that is no USCC, a number the ledger cannot
 * take) names the element of the certificate it came from, not the ledger request's field.
 */
export function inCertificateTerms(error: unknown): unknown {
    if (!(error instanceof LedgerError) || error.code !== 'INVALID_ARGUMENT' || error.field === undefined || !(error.field in PARTICULARS)) {
        return error;
    }
    const element = `Certificate.${PARTICULARS[error.field as keyof typeof PARTICULARS]}`;
    return new LedgerError({ code: error.code, field: element, message: error.message.replace(error.field, element), transactionId: error.transactionId, cause: error });
}
