import 'reflect-metadata'; // @peculiar/x509 needs the Reflect metadata API before it loads
import * as x509 from '@peculiar/x509';
import { createPrivateKey, type KeyObject, randomBytes, sign, webcrypto } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { CERTIFICATE_NAMESPACE } from '../../gateway/certificates/signed-xml';

x509.cryptoProvider.set(webcrypto as never);

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const DAY = 24 * 60 * 60 * 1000;

/** A foreign authority's signing key and its self-signed certificate, made for a test. */
export interface TestSigner {
    /** DER, base64: as the registry and the Receive request take it. */
    readonly der: string;
    readonly pem: string;
    readonly privateKey: KeyObject;
    readonly privateKeyPem: string;
}

export async function makeSigner(subject: string, validity: Readonly<{ notBefore?: Date; notAfter?: Date }> = {}): Promise<TestSigner> {
    const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']) as CryptoKeyPair;
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
        name: subject,
        notBefore: validity.notBefore ?? new Date(Date.now() - DAY),
        notAfter: validity.notAfter ?? new Date(Date.now() + 365 * DAY),
        keys,
        signingAlgorithm: RSA,
        extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    return { der: Buffer.from(certificate.rawData).toString('base64'), pem: certificate.toString('pem'), privateKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** What Receive is told of a signature made by `signer` over `signedInfo` (any bytes stand in for the canonical SignedInfo). */
export function signatureOver(signer: TestSigner, signedInfo: string): { method: string; signedInfo: string; value: string; verifies: true } {
    const bytes = Buffer.from(signedInfo, 'utf8');
    return {
        method: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', signedInfo: bytes.toString('base64'),
        value: sign('sha256', bytes, signer.privateKey).toString('base64'), verifies: true,
    };
}

export interface Particulars {
    readonly kind?: string;
    readonly number: string;
    readonly authorityId: string;
    readonly issuedAt: string;
    readonly consignee: string;
}

/** An unsigned certificate in the format the hub receives. */
export function certificateXml(particulars: Particulars, id = 'cert-1'): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Certificate xmlns="${CERTIFICATE_NAMESPACE}" Id="${id}">`
        + `<Kind>${particulars.kind ?? 'PHYTOSANITARY'}</Kind><Number>${particulars.number}</Number><Authority>${particulars.authorityId}</Authority>`
        + `<IssuedAt>${particulars.issuedAt}</IssuedAt><Exporter>Southern Grain Exports Pty Ltd</Exporter><Consignee>${particulars.consignee}</Consignee>`
        + '<Goods><Line><HsCode>1001991000</HsCode><Description>Wheat</Description><Quantity>25000</Quantity><Unit>KGM</Unit></Line></Goods>'
        + '</Certificate>';
}

/** Signs a certificate as a foreign authority would: an enveloped signature, the signer's certificate in KeyInfo. */
export function signXml(xml: string, signer: TestSigner, reference: Readonly<{ uri?: string }> = {}): string {
    const signature = new SignedXml({ privateKey: signer.privateKeyPem, publicCert: signer.pem });
    signature.signatureAlgorithm = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
    signature.canonicalizationAlgorithm = 'http://www.w3.org/2001/10/xml-exc-c14n#';
    signature.addReference({
        xpath: '/*',
        transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
        digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
        ...(reference.uri === undefined ? { uri: '', isEmptyUri: true } : { uri: reference.uri }),
    });
    signature.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
    return signature.getSignedXml();
}
