import { X509Certificate } from 'node:crypto';
import { SIGNATURE_METHODS, type SignatureMethod } from '@counterfoil/chaincode';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

/**
 * The signed XML a foreign authority issues a certificate as: one `Certificate` element in this
 * namespace, its particulars as child elements, and one enveloped XML-DSig signature:
 *
 *   <Certificate xmlns="urn:counterfoil:foreign-certificate:1" Id="…">
 *     <Kind>ORIGIN|PHYTOSANITARY</Kind> <Number>…</Number> <Authority>AU-DAFF</Authority>
 *     <IssuedAt>2026-11-30T08:00:00Z</IssuedAt> <Consignee>(USCC)</Consignee> …
 *     <ds:Signature>…<ds:KeyInfo><ds:X509Data><ds:X509Certificate>…</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>
 *   </Certificate>
 */
export const CERTIFICATE_NAMESPACE = 'urn:counterfoil:foreign-certificate:1';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const CANONICALIZATIONS = ['http://www.w3.org/2001/10/xml-exc-c14n#', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'];
const DIGESTS = ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512'];

/** A signed certificate, however many goods lines it lists, is far smaller than this. */
export const MAX_CERTIFICATE_BYTES = 1024 * 1024;

/** A signed document refused before any verdict: it breaks a rule that makes what it says unreadable or untrustworthy. */
export class RefusedDocument extends Error {
    constructor(readonly field: string, readonly rule: string) {
        super(`${field}: ${rule}`);
        this.name = 'RefusedDocument';
    }
}

export interface CertificateParticulars {
    readonly authorityId: string;
    readonly kind: string;
    readonly number: string;
    readonly holder: string;
    readonly signedAt: string;
}

/** What the ledger is told of a received certificate (its `Receive` request, less the content). */
export interface Examined extends CertificateParticulars {
    /** The signer's certificate, DER in base64. */
    readonly signerCertificate: string;
    readonly signature: {
        readonly method: SignatureMethod;
        readonly verifies: boolean;
        /** The canonical SignedInfo and the signature value, base64: the chaincode verifies one over the other. */
        readonly signedInfo?: string;
        readonly value?: string;
        readonly problem?: string;
    };
}

type Captured = { signedInfo?: string; value?: string };

/**
 * Checks a signed certificate the way XML-DSig verifiers are most often fooled, before and while
 * verifying it: no DOCTYPE or entities (so no external entity is ever fetched), exactly one
 * signature, a child of the certificate itself, with one reference to the whole certificate
 * (URI "" or "#" and its own unique Id, never another document or element), only the enveloped
 * transform and canonicalisation, RSA with SHA-256 or SHA-512. Particulars of a signature that
 * verifies are read from what the signature covers (as xml-crypto hands it back), never from the
 * document around it; those of one that does not are read from the document, for the case.
 */
export function examineSignedCertificate(bytes: Buffer): Examined {
    if (bytes.length > MAX_CERTIFICATE_BYTES) {
        throw new RefusedDocument('body', `must be at most ${MAX_CERTIFICATE_BYTES} bytes`);
    }
    let text: string;
    try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
        throw new RefusedDocument('body', 'must be UTF-8 XML');
    }
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
        throw new RefusedDocument('body', 'must not declare a DOCTYPE or entities: external and internal entities are refused');
    }
    const document = parse(text);
    const root = document.documentElement;
    if (!root || root.namespaceURI !== CERTIFICATE_NAMESPACE || root.localName !== 'Certificate') {
        throw new RefusedDocument('body', `the root element must be Certificate in namespace ${CERTIFICATE_NAMESPACE}`);
    }
    const signatures = document.getElementsByTagNameNS(DSIG, 'Signature');
    if (signatures.length !== 1) {
        throw new RefusedDocument('Signature', `the certificate must carry exactly one ds:Signature; it carries ${signatures.length}`);
    }
    const signature = signatures.item(0) as Element;
    if (signature.parentNode !== root) {
        throw new RefusedDocument('Signature', 'must be a child of Certificate (an enveloped signature of the certificate itself)');
    }
    const signedInfo = only(signature, DSIG, 'SignedInfo', 'Signature');
    only(signature, DSIG, 'SignatureValue', 'Signature');
    if (children(signature, DSIG, 'Object').length > 0) {
        throw new RefusedDocument('Signature.Object', 'must not be present: the certificate is signed in place, not wrapped inside its signature');
    }
    algorithmOf(only(signedInfo, DSIG, 'CanonicalizationMethod', 'SignedInfo'), 'SignedInfo.CanonicalizationMethod', CANONICALIZATIONS);
    const method = algorithmOf(only(signedInfo, DSIG, 'SignatureMethod', 'SignedInfo'), 'SignedInfo.SignatureMethod', Object.keys(SIGNATURE_METHODS)) as SignatureMethod;
    const references = children(signedInfo, DSIG, 'Reference');
    if (references.length !== 1) {
        throw new RefusedDocument('SignedInfo.Reference', `must be exactly one, to the certificate; there are ${references.length}`);
    }
    checkReference(references[0] as Element, root, document);
    const signerCertificate = signerOf(signature);
    const particulars = particularsOf(root);
    const captured: Captured = {};
    const verifier = restrictedVerifier(signerCertificate, captured);
    let verifies = false;
    let failure: Error | undefined;
    try {
        verifier.loadSignature(signature);
        verifies = verifier.checkSignature(text);
    } catch (error) {
        failure = error as Error;
    }
    // The signature value is checked last, and only once every reference's digest matched.
    const problem = verifies ? undefined
        : captured.signedInfo !== undefined ? 'the signature value is not the signer certificate\'s signature over SignedInfo'
            : failure ? `the signature cannot be verified: ${failure.message}`
                : 'the certificate\'s content does not match the digest its signature covers: it was changed after it was signed';
    if (!verifies) {
        return { ...particulars, signerCertificate: signerCertificate.raw.toString('base64'), signature: { method, verifies, problem, ...captured } };
    }
    const signed = verifier.getSignedReferences();
    const signedRoot = signed.length === 1 ? parse(signed[0] as string).documentElement : null;
    if (!signedRoot || signedRoot.namespaceURI !== CERTIFICATE_NAMESPACE || signedRoot.localName !== 'Certificate') {
        throw new RefusedDocument('SignedInfo.Reference', 'must cover the Certificate element');
    }
    return {
        ...particularsOf(signedRoot), signerCertificate: signerCertificate.raw.toString('base64'),
        signature: { method, verifies, signedInfo: captured.signedInfo, value: captured.value },
    };
}

function parse(text: string): Document {
    const fail = (message: string): never => {
        throw new RefusedDocument('body', `is not well-formed XML: ${message.split('\n')[0]}`);
    };
    return new DOMParser({ errorHandler: { warning: fail, error: fail, fatalError: fail } }).parseFromString(text, 'application/xml');
}

function children(parent: Element, namespace: string, name: string): Element[] {
    const found: Element[] = [];
    for (let node = parent.firstChild; node; node = node.nextSibling) {
        if (node.nodeType === 1 && (node as Element).namespaceURI === namespace && (node as Element).localName === name) {
            found.push(node as Element);
        }
    }
    return found;
}

function only(parent: Element, namespace: string, name: string, where: string): Element {
    const found = children(parent, namespace, name);
    if (found.length !== 1) {
        throw new RefusedDocument(`${where}.${name}`, `must appear exactly once; it appears ${found.length} times`);
    }
    return found[0] as Element;
}

function algorithmOf(element: Element, field: string, allowed: readonly string[]): string {
    const algorithm = element.getAttribute('Algorithm') ?? '';
    if (!allowed.includes(algorithm)) {
        throw new RefusedDocument(field, `must be one of ${allowed.join(', ')}; it is "${algorithm}"`);
    }
    return algorithm;
}

/** The one reference must be to the certificate itself, through only the enveloped transform and a canonicalisation. */
function checkReference(reference: Element, root: Element, document: Document): void {
    const uri = reference.getAttribute('URI');
    const id = root.getAttribute('Id');
    if (uri !== '' && !(id && uri === `#${id}`)) {
        throw new RefusedDocument('SignedInfo.Reference.URI', `must be "" or "#" and the Certificate's own Id, so that the whole certificate is signed; it is "${uri ?? '(none)'}"`);
    }
    if (uri !== '') {
        let holders = 0;
        const all = document.getElementsByTagName('*');
        for (let index = 0; index < all.length; index++) {
            const element = all.item(index) as Element;
            for (let a = 0; a < element.attributes.length; a++) {
                const attribute = element.attributes.item(a) as Attr;
                if (attribute.localName.toLowerCase() === 'id' && attribute.value === id) {
                    holders++;
                }
            }
        }
        if (holders !== 1) {
            throw new RefusedDocument('SignedInfo.Reference.URI', `Id "${id}" must be carried by the Certificate alone; ${holders} elements carry it`);
        }
    }
    const transforms = children(reference, DSIG, 'Transforms');
    const algorithms = transforms.length === 0 ? [] : children(transforms[0] as Element, DSIG, 'Transform').map((transform) => transform.getAttribute('Algorithm') ?? '');
    const expected = algorithms[0] === ENVELOPED && algorithms.length <= 2 && (algorithms.length === 1 || CANONICALIZATIONS.includes(algorithms[1] as string));
    if (transforms.length !== 1 || !expected) {
        throw new RefusedDocument('SignedInfo.Reference.Transforms', `must be the enveloped-signature transform, then at most one canonicalisation (${CANONICALIZATIONS.join(', ')}); they are ${algorithms.join(', ') || 'none'}`);
    }
    algorithmOf(only(reference, DSIG, 'DigestMethod', 'SignedInfo.Reference'), 'SignedInfo.Reference.DigestMethod', DIGESTS);
}

/** The one X.509 certificate the signature's KeyInfo carries: the key it is verified with, and the signer the registry is asked about. */
function signerOf(signature: Element): X509Certificate {
    const keyInfo = only(signature, DSIG, 'KeyInfo', 'Signature');
    const data = only(keyInfo, DSIG, 'X509Data', 'Signature.KeyInfo');
    const base64 = (only(data, DSIG, 'X509Certificate', 'Signature.KeyInfo.X509Data').textContent ?? '').replace(/\s+/g, '');
    try {
        return new X509Certificate(Buffer.from(base64, 'base64'));
    } catch {
        throw new RefusedDocument('Signature.KeyInfo.X509Data.X509Certificate', 'must be an X.509 certificate, DER in base64');
    }
}

/** Which element of the certificate each particular is read from. */
export const PARTICULARS = { authorityId: 'Authority', kind: 'Kind', number: 'Number', holder: 'Consignee', signedAt: 'IssuedAt' } as const;

function particularsOf(root: Element): CertificateParticulars {
    const read = (name: string): string => (only(root, CERTIFICATE_NAMESPACE, name, 'Certificate').textContent ?? '').trim();
    return Object.fromEntries(Object.entries(PARTICULARS).map(([field, element]) => [field, read(element)])) as unknown as CertificateParticulars;
}

/**
 * An xml-crypto verifier that knows only the algorithms allowed here, verifies with the key of
 * the certificate in KeyInfo (which the registry must then know), and hands back the canonical
 * SignedInfo and signature value it checked, for the chaincode to check again.
 */
function restrictedVerifier(signer: X509Certificate, captured: Captured): SignedXml {
    const verifier = new SignedXml({ publicCert: signer.toString(), getCertFromKeyInfo: () => null });
    const keep = <T>(table: Record<string, T>, allowed: readonly string[]): Record<string, T> =>
        Object.fromEntries(Object.entries(table).filter(([uri]) => allowed.includes(uri)));
    verifier.CanonicalizationAlgorithms = keep(verifier.CanonicalizationAlgorithms, [...CANONICALIZATIONS, ENVELOPED]);
    verifier.HashAlgorithms = keep(verifier.HashAlgorithms, DIGESTS);
    verifier.SignatureAlgorithms = Object.fromEntries(Object.keys(SIGNATURE_METHODS).map((uri) => {
        const Algorithm = verifier.SignatureAlgorithms[uri];
        if (Algorithm === undefined) {
            throw new Error(`xml-crypto does not know ${uri}`);
        }
        const Known = Algorithm;
        return [uri, class {
            constructor() {
                const inner = new Known();
                const verifySignature = inner.verifySignature.bind(inner);
                return Object.assign(inner, {
                    verifySignature: (material: string, key: Parameters<typeof verifySignature>[1], value: string): boolean => {
                        captured.signedInfo = Buffer.from(material, 'utf8').toString('base64');
                        captured.value = value.replace(/\s+/g, '');
                        return verifySignature(material, key, value);
                    },
                });
            }
        } as unknown as typeof Known];
    }));
    return verifier;
}
