import { LedgerError } from '../../network/ledger';
import { examineSignedCertificate, PARTICULARS, RefusedDocument } from './signed-xml';

/**
 * Receives a signed certificate: examines it, then has `submit` send the ledger's
 * `foreign-certificates.Receive` its verdict's inputs, with the signed XML itself as the transient
 * `content` (it goes only to the certificate collection's members). XML it will not read is
 * refused as INVALID_ARGUMENT naming the part and the rule; a particular the ledger refuses is
 * named by the certificate's element.
 */
export async function receiveSignedCertificate<T>(xml: Buffer, submit: (request: Record<string, unknown>, transient: Record<string, Uint8Array>) => Promise<T>): Promise<T> {
    let examined: ReturnType<typeof examineSignedCertificate>;
    try {
        examined = examineSignedCertificate(xml);
    } catch (error) {
        if (error instanceof RefusedDocument) {
            throw new LedgerError({ code: 'INVALID_ARGUMENT', field: error.field, message: `the signed certificate is refused: ${error.field} ${error.rule}` });
        }
        throw error;
    }
    return submit({ ...examined }, { content: xml }).catch((error: unknown) => Promise.reject(inCertificateTerms(error)));
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
function inCertificateTerms(error: unknown): unknown {
    if (!(error instanceof LedgerError) || error.code !== 'INVALID_ARGUMENT' || error.field === undefined || !(error.field in PARTICULARS)) {
        return error;
    }
    const element = `Certificate.${PARTICULARS[error.field as keyof typeof PARTICULARS]}`;
    return new LedgerError({ code: error.code, field: element, message: error.message.replace(error.field, element), transactionId: error.transactionId, cause: error });
}
