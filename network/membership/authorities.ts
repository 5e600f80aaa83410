import 'reflect-metadata'; // @peculiar/x509 needs the Reflect metadata API before it loads
import * as x509 from '@peculiar/x509';
import { createPrivateKey, type KeyObject, randomBytes, sign, verify, webcrypto, X509Certificate } from 'node:crypto';
import { type EnrolledIdentity, type Enrolment, type EnrolmentRequest, LedgerError, type Sealer } from '../ledger';

x509.cryptoProvider.set(webcrypto as never);

/** Where Fabric CA puts certificate attributes, and how the chaincode shim reads them. */
export const FABRIC_ATTRIBUTES_OID = '1.2.3.4.5.6.7.8.1';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;
/** Certificates whose issuer check is remembered per authority (the cache starts over when full). */
const CERTIFICATE_CACHE_SIZE = 10_000;

export interface AuthorityRecord {
    readonly mspId: string;
    readonly certificate: string;
    readonly privateKey: string;
}

export type IdentityRequest = EnrolmentRequest;
export type IssuedIdentity = EnrolledIdentity;

/** Makes a signing identity from a certificate and its PKCS #8 private key. */
export function signingIdentity(mspId: string, certificate: string, privateKeyPem: string): IssuedIdentity {
    const key: KeyObject = createPrivateKey(privateKeyPem);
    return {
        mspId, certificate, privateKey: privateKeyPem,
        // With a callback, Node signs on libuv's thread pool: the event loop goes on meanwhile.
        sign: (digest: Uint8Array): Promise<Uint8Array> => new Promise((resolve, reject) => {
            sign(null, digest, key, (error, signature) => (error ? reject(error) : resolve(signature)));
        }),
    };
}

/**
 * One organisation's certificate authority: the embedded ledger's stand-in for a Fabric MSP
 * and its Fabric CA. It issues ECDSA P-256 certificates carrying attributes exactly where
 * Fabric CA puts them, so the chaincode reads them the same way on both ledgers.
 */
export class MembershipAuthority {
    private readonly root: X509Certificate;
    /** Whether this authority issued a certificate, by its PEM: each caller signs many proposals. */
    private readonly issued = new Map<string, Member | string>();

    private constructor(readonly record: AuthorityRecord) {
        this.root = new X509Certificate(record.certificate);
    }

    static fromRecord(record: AuthorityRecord): MembershipAuthority {
        return new MembershipAuthority(record);
    }

    /** An organisation's root certificate alone: it admits members but issues nothing. */
    static root(mspId: string, certificate: string): MembershipAuthority {
        return new MembershipAuthority({ mspId, certificate, privateKey: '' });
    }

    static async create(mspId: string): Promise<MembershipAuthority> {
        const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
        const now = Date.now();
        const certificate = await x509.X509CertificateGenerator.createSelfSigned({
            serialNumber: serialNumber(),
            name: `CN=ca.${mspId.toLowerCase()}, O=${mspId}`,
            notBefore: new Date(now - DAY),
            notAfter: new Date(now + 20 * 365 * DAY),
            keys: keys,
            signingAlgorithm: ALGORITHM,
            extensions: [
                new x509.BasicConstraintsExtension(true, undefined, true),
                new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            ],
        });
        const privateKey = await exportPrivateKey(keys.privateKey);
        return new MembershipAuthority({ mspId, certificate: certificate.toString('pem'), privateKey });
    }

    get mspId(): string {
        return this.record.mspId;
    }

    async issue(request: IdentityRequest): Promise<IssuedIdentity> {
        const extensions: x509.Extension[] = [];
        if (request.attributes && Object.keys(request.attributes).length > 0) {
            const attrs = Object.fromEntries(Object.entries(request.attributes).sort(([left], [right]) => left.localeCompare(right)));
            extensions.push(new x509.Extension(FABRIC_ATTRIBUTES_OID, false, Buffer.from(JSON.stringify({ attrs }), 'utf8')));
        }
        const { certificate, privateKey } = await this.certify(`CN=${escapeName(request.name)}, OU=${escapeName(request.attributes?.role ?? 'client')}, O=${this.mspId}`, extensions, request);
        return signingIdentity(this.mspId, certificate, privateKey);
    }

    /**
     * A TLS certificate for one of the organisation's nodes (server and client authentication,
     * for the hosts it answers on), with which the nodes of the network's members recognise
     * each other.
     */
    async issueNode(name: string, hosts: readonly string[]): Promise<{ certificate: string; privateKey: string }> {
        return this.certify(`CN=${escapeName(name)}, OU=node, O=${this.mspId}`, [
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
            new x509.SubjectAlternativeNameExtension(hosts.map((host) => ({ type: /^[\d.]+$|:/.test(host) ? 'ip' as const : 'dns' as const, value: host }))),
        ], { notAfter: new Date(Date.now() + 5 * 365 * DAY) });
    }

    private async certify(subject: string, extensions: x509.Extension[], validity: Readonly<{ notBefore?: Date; notAfter?: Date }>): Promise<{ certificate: string; privateKey: string }> {
        if (!this.record.privateKey) {
            throw new LedgerError({ code: 'NOT_FOUND', field: 'mspId', message: `this party holds only ${this.mspId}'s root certificate, not its authority's key` });
        }
        const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
        const signingKey = await webcrypto.subtle.importKey('pkcs8', pemBody(this.record.privateKey), ALGORITHM, false, ['sign']);
        const now = Date.now();
        const certificate = await x509.X509CertificateGenerator.create({
            serialNumber: serialNumber(),
            subject,
            issuer: new x509.X509Certificate(this.record.certificate).subject,
            notBefore: validity.notBefore ?? new Date(now - 60_000),
            notAfter: validity.notAfter ?? new Date(now + 365 * DAY),
            signingKey: signingKey,
            publicKey: keys.publicKey,
            signingAlgorithm: ALGORITHM,
            extensions: [
                new x509.BasicConstraintsExtension(false, undefined, true),
                new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
                ...extensions,
            ],
        });
        return { certificate: certificate.toString('pem'), privateKey: await exportPrivateKey(keys.privateKey) };
    }

    /** The member a certificate makes of this organisation, or why it is none (its validity in time aside). */
    member(certificatePem: string): Member | string {
        let issued = this.issued.get(certificatePem);
        if (issued === undefined) {
            issued = issuedBy(this.root, this.mspId, certificatePem);
            if (this.issued.size >= CERTIFICATE_CACHE_SIZE) {
                this.issued.clear();
            }
            this.issued.set(certificatePem, issued);
        }
        return issued;
    }

    /** The certificate as a member of this organisation valid at `time`, or why it is not one. */
    admit(certificatePem: string, time: Date): Member | string {
        const member = this.member(certificatePem);
        return typeof member === 'string' ? member : validityProblem(member, time) ?? member;
    }

    /** Why a certificate is not a valid member of this organisation at `time`, or undefined. */
    problemWith(certificatePem: string, time: Date): string | undefined {
        const admitted = this.admit(certificatePem, time);
        return typeof admitted === 'string' ? admitted : undefined;
    }
}

/**
 * A certificate an authority issued, read once: its public key ready for checking signatures and
 * its validity period as instants, since one caller signs many proposals.
 */
export interface Member {
    readonly certificate: X509Certificate;
    readonly publicKey: KeyObject;
    readonly validFrom: number;
    readonly validTo: number;
}

/** The certificate as a member, when `root` issued and signed it; otherwise why not. */
export function issuedBy(root: X509Certificate, mspId: string, certificatePem: string): Member | string {
    let certificate: X509Certificate;
    try {
        certificate = new X509Certificate(certificatePem);
    } catch {
        return 'the certificate is not a readable X.509 certificate';
    }
    if (!certificate.checkIssued(root) || !certificate.verify(root.publicKey)) {
        return `the certificate was not issued by the certificate authority of ${mspId}`;
    }
    return { certificate, publicKey: certificate.publicKey, validFrom: Date.parse(certificate.validFrom), validTo: Date.parse(certificate.validTo) };
}

/** Why the member's certificate is not valid at `time`, or undefined. */
export function validityProblem(member: Member, time: Date): string | undefined {
    if (time.getTime() < member.validFrom || time.getTime() > member.validTo) {
        return `the certificate is not valid at ${time.toISOString()} (valid ${member.certificate.validFrom} to ${member.certificate.validTo})`;
    }
    return undefined;
}

/** Whether the member signed `digest` (ECDSA over SHA-256, as a proposal is signed), checked on the calling thread. */
export function signedBy(member: Member, digest: Uint8Array, signature: Uint8Array): boolean {
    try {
        return verify(null, digest, member.publicKey, signature);
    } catch {
        return false;
    }
}

/**
 * The same check on libuv's thread pool, so that an event loop verifying many proposals (an
 * endorser, a node's CheckTx) leaves the work to the machine's other cores.
 */
export function verifySignature(member: Member, digest: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return new Promise((resolve) => {
        try {
            verify(null, digest, member.publicKey, signature, (error, valid) => resolve(!error && valid));
        } catch {
            resolve(false);
        }
    });
}

function serialNumber(): string {
    const bytes = randomBytes(16);
    bytes[0] = (bytes[0] as number) & 0x7f; // a positive INTEGER
    return bytes.toString('hex');
}

function escapeName(value: string): string {
    return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

async function exportPrivateKey(key: webcrypto.CryptoKey): Promise<string> {
    const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
    return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string): Buffer {
    return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** Enrolment through the authorities a party holds, each by its organisation. */
export class AuthorityEnrolment implements Enrolment {
    constructor(private readonly authorities: ReadonlyMap<string, MembershipAuthority>, readonly keys: Sealer) {}

    get organisations(): string[] {
        return [...this.authorities.keys()];
    }

    authority(mspId: string): MembershipAuthority {
        const authority = this.authorities.get(mspId);
        if (!authority) {
            throw new LedgerError({ code: 'FORBIDDEN', field: 'mspId', message: `this party holds the certificate authorities of ${this.organisations.join(', ')} only: a member of ${mspId} is enrolled by ${mspId}'s own node` });
        }
        return authority;
    }

    async enrol(mspId: string, request: EnrolmentRequest): Promise<EnrolledIdentity> {
        return this.authority(mspId).issue(request);
    }

    problemWith(mspId: string, certificate: string, at: Date): string | undefined {
        return this.authority(mspId).problemWith(certificate, at);
    }
}
