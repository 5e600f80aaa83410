import { createHash } from 'node:crypto';
import { Context, Info, Transaction } from 'fabric-contract-api';
import { type CaseRecord, LEDGER_CASE_PREFIX, writeNewCase } from '../cases/contract';
import { callerOf, type Caller, partyOf, requireAgency, requireWriter } from '../common/caller';
import { CounterfoilContract } from '../common/contract';
import { conflict, forbidden, invalidArgument, notFound } from '../common/errors';
import { emit } from '../common/events';
import { Fields } from '../common/fields';
import { type Page, pageOfIndex, readPageRequest, readRecord, sameContent, transactionTime, writeIndex, writeRecord } from '../common/state';
import { type Agency, DOCUMENT_NUMBER_RULE } from '../common/vocabulary';
import { readContent } from '../documents/terms';
import { AUTHORITY_ID_RULE, getAuthority } from './authorities';
import { type Finding, judgeSigner, readBase64, readCertificate, SIGNATURE_METHODS, type SignatureMethod, type SignerIdentity, signedInfoVerifies } from './signers';

export const FOREIGN_CERTIFICATE_KINDS = ['ORIGIN', 'PHYTOSANITARY'] as const;
export type ForeignCertificateKind = (typeof FOREIGN_CERTIFICATE_KINDS)[number];

/** The agencies that receive foreign certificates; both are members of the collection their content goes to. */
const RECEIVERS: readonly Agency[] = ['CustomsMSP', 'InspectionMSP'];
const COLLECTION = 'certificateContent';

/**
 * A signed certificate received from a foreign authority, and the verdict on its signature:
 * `VERIFIED`, or `MISMATCH` with every finding, in which case the same transaction opened a
 * `SIGNATURE_MISMATCH` case with the holder and the authority as parties. The signed XML itself
 * is confidential and goes to the certificate collection; the ledger keeps its SHA-256.
 */
export interface ForeignCertificateRecord {
    readonly authorityId: string;
    readonly kind: ForeignCertificateKind;
    readonly number: string;
    /** The consignee named on the certificate: the enterprise that relies on it. */
    readonly holder: string;
    /** The signing time the certificate states. */
    readonly signedAt: string;
    /** SHA-256 of the signed XML as received. */
    readonly documentHash: string;
    readonly signer: SignerIdentity;
    readonly signature: { readonly method: SignatureMethod; readonly signedInfoHash?: string; readonly verifies: boolean; readonly problem?: string };
    readonly verdict: 'VERIFIED' | 'MISMATCH';
    readonly findings: Finding[];
    readonly caseId?: string;
    readonly collection: string;
    readonly receivedBy: string;
    readonly receivedAt: string;
    readonly transactionId: string;
}

export const FOREIGN_CERTIFICATE = 'foreign-certificate';
const BY_HOLDER = 'foreign-certificate~holder';

function recordKey(ctx: Context, authorityId: string, number: string, documentHash: string): string {
    return ctx.stub.createCompositeKey(FOREIGN_CERTIFICATE, [authorityId, number, documentHash]);
}

/** The receipt an index entry names by its authority, number and document hash. */
function readReceipt(ctx: Context, [authorityId, number, documentHash]: (string | undefined)[]): Promise<ForeignCertificateRecord | undefined> {
    return readRecord<ForeignCertificateRecord>(ctx, recordKey(ctx, authorityId ?? '', number ?? '', documentHash ?? ''));
}

/** The canonical SignedInfo is small; 16 KiB of base64 is far more than any has. */
const MAX_SIGNED_INFO_CHARACTERS = 16_384;

function canRead(caller: Caller, record: ForeignCertificateRecord): boolean {
    return caller.kind === 'agency' || caller.uscc === record.holder;
}

@Info({ title: 'Foreign certificates', description: 'Signed certificates from foreign authorities and the verdicts on their signatures' })
export class ForeignCertificateContract extends CounterfoilContract {
    constructor() {
        super('foreign-certificates');
    }

    /**
     * Records a signed certificate received from a foreign authority (customs or inspection). The
     * receiving gateway has checked the XML signature and says whether it verifies; the chaincode
     * checks, itself, that the signature value is the signer's over the SignedInfo whenever that
     * is claimed, and judges the signer against the registry at the stated signing time. The
     * signed XML arrives as transient data `content`.
     */
    @Transaction()
    async Receive(ctx: Context, request: string): Promise<ForeignCertificateRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const agency = requireAgency(caller, 'receive foreign certificates', RECEIVERS);
        const fields = Fields.parse(request);
        const authorityId = fields.string('authorityId', AUTHORITY_ID_RULE);
        const kind = fields.oneOf('kind', FOREIGN_CERTIFICATE_KINDS);
        const number = fields.string('number', DOCUMENT_NUMBER_RULE);
        const holder = fields.uscc('holder');
        const signedAt = fields.timestamp('signedAt');
        const { certificate, identity } = readCertificate(fields, 'signerCertificate');
        const signature = fields.object('signature');
        const method = signature.oneOf('method', Object.keys(SIGNATURE_METHODS) as SignatureMethod[]);
        const verifies = signature.boolean('verifies');
        if (verifies && signature.has('problem')) {
            throw invalidArgument('signature.problem', 'is only for a signature that does not verify');
        }
        const problem = verifies ? (signature.optionalString('problem'), undefined) : signature.string('problem', { maxLength: 500 });
        // A signature that verifies comes with what it was verified over; one whose references
        // failed never got as far as its SignedInfo.
        const optional = (name: string, maxCharacters: number): Buffer | undefined =>
            (verifies || signature.has(name) ? readBase64(signature, name, maxCharacters) : (signature.optionalString(name), undefined));
        const signedInfo = optional('signedInfo', MAX_SIGNED_INFO_CHARACTERS);
        const value = optional('value', 2048);
        signature.done();
        fields.done();
        const { content, contentHash: documentHash } = readContent(ctx);
        if (verifies && !signedInfoVerifies(certificate, method, signedInfo as Buffer, value as Buffer)) {
            throw invalidArgument('signature.value', 'is not the signer certificate\'s signature over signature.signedInfo, so the signature cannot be recorded as verifying');
        }
        const authority = await getAuthority(ctx, authorityId);
        const now = transactionTime(ctx);
        const findings: Finding[] = [
            ...(verifies ? [] : [{ code: 'SIGNATURE_INVALID' as const, expected: `a signature by the signer's key over this certificate as ${authorityId} issued it`, found: problem ?? '' }]),
            ...judgeSigner(authorityId, authority.signers, identity, signedAt, now),
        ];
        const verdict = findings.length === 0 ? 'VERIFIED' : 'MISMATCH';
        const caseId = verdict === 'MISMATCH' ? `${LEDGER_CASE_PREFIX}${authorityId}:${documentHash.slice(0, 32)}` : undefined;
        const record: ForeignCertificateRecord = {
            authorityId, kind, number, holder, signedAt, documentHash, signer: identity,
            signature: { method, ...(signedInfo ? { signedInfoHash: sha256Hex(signedInfo) } : {}), verifies, ...(problem === undefined ? {} : { problem }) },
            verdict, findings, ...(caseId ? { caseId } : {}), collection: COLLECTION,
            receivedBy: agency.mspId, receivedAt: now, transactionId: ctx.stub.getTxID(),
        };
        const key = recordKey(ctx, authorityId, number, documentHash);
        const existing = await readRecord<ForeignCertificateRecord>(ctx, key);
        if (existing) {
            const particulars = (r: ForeignCertificateRecord): unknown => [r.kind, r.holder, r.signedAt, r.signer.fingerprint, r.signature.method, r.signature.signedInfoHash, r.signature.verifies];
            if (sameContent(particulars(existing), particulars(record))) {
                return existing; // received before: the first verdict stands
            }
            throw conflict('content', `certificate ${number} of ${authorityId} with this content was recorded with other particulars`);
        }
        await writeRecord(ctx, key, record);
        await writeIndex(ctx, BY_HOLDER, [holder, authorityId, number, documentHash]);
        await ctx.stub.putPrivateData(COLLECTION, key, content);
        let caseRecord: CaseRecord | undefined;
        if (caseId) {
            caseRecord = {
                caseId, subject: { kind: 'FOREIGN_CERTIFICATE', authorityId, number, documentHash }, reason: 'SIGNATURE_MISMATCH',
                parties: [agency.mspId, holder, authorityId].sort(), openedBy: agency.mspId, openedAt: now, findings, status: 'OPEN',
                messageCount: 0, updatedAt: now, transactionId: ctx.stub.getTxID(),
            };
            await writeNewCase(ctx, caseRecord);
        }
        emit(ctx, 'ForeignCertificateReceived', { ...record, ...(caseRecord ? { caseRecord } : {}) });
        return record;
    }

    /** Every receipt of a certificate number from an authority (usually one; a corrected reissue makes two). */
    @Transaction(false)
    async Get(ctx: Context, request: string): Promise<ForeignCertificateRecord[]> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const authorityId = fields.string('authorityId', AUTHORITY_ID_RULE);
        const number = fields.string('number', DOCUMENT_NUMBER_RULE);
        fields.done();
        const page = await pageOfIndex(ctx, FOREIGN_CERTIFICATE, [authorityId, number], { pageSize: 200, bookmark: '' }, (key) => readReceipt(ctx, key));
        if (page.records.length === 0) {
            throw notFound('number', `no certificate ${number} of ${authorityId} has been received`);
        }
        const readable = page.records.filter((record) => canRead(caller, record));
        if (readable.length === 0) {
            throw forbidden('caller', `enterprise ${partyOf(caller)} is not the consignee of certificate ${number} of ${authorityId}`);
        }
        return readable;
    }

    /** Certificates received from one authority (agencies and auditors), or held by one enterprise (it, agencies and auditors). */
    @Transaction(false)
    async List(ctx: Context, request: string): Promise<Page<ForeignCertificateRecord>> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const authorityId = fields.has('authorityId') ? fields.string('authorityId', AUTHORITY_ID_RULE) : (fields.optionalString('authorityId'), undefined);
        const holder = fields.has('holder') ? fields.uscc('holder') : (fields.optionalString('holder'), undefined);
        const page = readPageRequest(fields);
        fields.done();
        if ((authorityId === undefined) === (holder === undefined)) {
            throw invalidArgument('authorityId', 'exactly one of authorityId and holder is required');
        }
        if (caller.kind === 'enterprise' && holder !== caller.uscc) {
            throw forbidden(holder === undefined ? 'authorityId' : 'holder', `enterprise ${caller.uscc} may list only the certificates it holds`);
        }
        if (holder !== undefined) {
            return pageOfIndex(ctx, BY_HOLDER, [holder], page, ([, ...key]) => readReceipt(ctx, key));
        }
        return pageOfIndex(ctx, FOREIGN_CERTIFICATE, [authorityId as string], page, (key) => readReceipt(ctx, key));
    }
}

function sha256Hex(bytes: Buffer): string {
    return createHash('sha256').update(bytes).digest('hex');
}
