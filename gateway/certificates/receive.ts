import { examineSignedCertificate } from './signed-xml';

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
