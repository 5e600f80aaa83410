import { Context, Info, Transaction } from 'fabric-contract-api';
import { CounterfoilContract } from '../common/contract';
import { callerOf, type Caller, isAuditor, requireAgency, requireWriter } from '../common/caller';
import { canonicalJson } from '../common/canonical';
import { conflict, failedPrecondition, forbidden, invalidArgument } from '../common/errors';
import { emit } from '../common/events';
import { Fields } from '../common/fields';
import { type Page, pageOfIndex, readPageRequest, readRecord, transactionTime, writeIndex, writeRecord } from '../common/state';
import {
    AGENCIES, COLLECTION_OF, CONTENT_COLLECTIONS, DOCUMENT_NUMBER_RULE, DOCUMENT_TYPES, type DocumentType, ISSUER_OF,
} from '../common/vocabulary';
import {
    asSeenAt, contentKey, documentKey, DOCUMENTS_BY_HOLDER, DOCUMENTS_BY_ISSUER, type DocumentRecord, findDocument,
    getDocument, headKey, isExhausted, type PermitTerms,
} from './records';
import { readContent, readTerms } from './terms';

interface DocumentReference {
    readonly type: DocumentType;
    readonly number: string;
    readonly version?: number;
}

function readReference(fields: Fields): DocumentReference {
    const type = fields.oneOf('type', DOCUMENT_TYPES);
    const number = fields.string('number', DOCUMENT_NUMBER_RULE);
    const version = fields.optionalInteger('version', { min: 1, max: 9999 });
    return { type, number, version };
}

/** Enterprises see only documents they hold; agencies and auditors see every counterfoil. */
function requireReader(caller: Caller, record: DocumentRecord): void {
    if (caller.kind === 'enterprise' && caller.uscc !== record.holder) {
        throw forbidden('caller', `enterprise ${caller.uscc} is not the holder of ${record.type} ${record.number}`);
    }
}

@Info({ title: 'Documents', description: 'Issue, amend, revoke and read the counterfoils of trade documents' })
export class DocumentContract extends CounterfoilContract {
    constructor() {
        super('documents');
    }

    /** Issues version 1 of a document. The content arrives as transient data `content`. */
    @Transaction()
    async Issue(ctx: Context, request: string): Promise<DocumentRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const fields = Fields.parse(request);
        const type = fields.oneOf('type', DOCUMENT_TYPES);
        const agency = requireAgency(caller, `issue ${type}`, [ISSUER_OF[type]]);
        const number = fields.string('number', DOCUMENT_NUMBER_RULE);
        const holder = fields.uscc('holder');
        const now = transactionTime(ctx);
        const terms = readTerms(fields, type, now);
        fields.done();
        const { content, contentHash } = readContent(ctx);
        const collection = COLLECTION_OF[type];

        const record: DocumentRecord = {
            type, number, version: 1, issuer: agency.mspId, holder, status: 'ACTIVE',
            validFrom: terms.validFrom, validTo: terms.validTo, summary: terms.summary, permit: terms.permit,
            contentHash, collection, issuedAt: now, updatedAt: now, transactionId: ctx.stub.getTxID(),
        };
        const existing = await findDocument(ctx, type, number);
        if (existing) {
            if (existing.version === 1 && sameIssue(existing, record)) {
                return asSeenAt(existing, now);
            }
            throw conflict('number', `${type} ${number} is already on the ledger with different content`);
        }
        await writeRecord(ctx, documentKey(ctx, type, number, 1), record);
        await writeRecord(ctx, headKey(ctx, type, number), { version: 1 });
        await ctx.stub.putPrivateData(collection, contentKey(ctx, type, number, 1), content);
        await writeIndex(ctx, DOCUMENTS_BY_HOLDER, [holder, type, number]);
        await writeIndex(ctx, DOCUMENTS_BY_ISSUER, [agency.mspId, type, number]);
        emit(ctx, 'DocumentIssued', record);
        return record;
    }

    /**
     * Replaces the terms of the current version with a new version; the old one is kept as
     * AMENDED. Quantities already drawn and uses already counted carry over to the new version.
     */
    @Transaction()
    async Amend(ctx: Context, request: string): Promise<DocumentRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const fields = Fields.parse(request);
        const type = fields.oneOf('type', DOCUMENT_TYPES);
        const agency = requireAgency(caller, `amend ${type}`, [ISSUER_OF[type]]);
        const number = fields.string('number', DOCUMENT_NUMBER_RULE);
        const expectedVersion = fields.integer('expectedVersion', { min: 1, max: 9998 });
        const now = transactionTime(ctx);
        const current = await getDocument(ctx, type, number);
        const terms = readTerms(fields, type, now, current.permit?.direction);
        fields.done();
        const { content, contentHash } = readContent(ctx);
        if (current.issuer !== agency.mspId) {
            throw forbidden('caller', `${agency.mspId} did not issue ${type} ${number}`);
        }
        const permit = current.permit && terms.permit ? carryOver(current.permit, terms.permit) : undefined;
        const amended: DocumentRecord = {
            ...current, version: expectedVersion + 1, status: 'ACTIVE', validFrom: terms.validFrom, validTo: terms.validTo,
            summary: terms.summary, permit, contentHash, updatedAt: now, transactionId: ctx.stub.getTxID(),
        };
        if (current.version === expectedVersion + 1 && sameTerms(current, amended)) {
            return asSeenAt(current, now); // this amendment was already applied: a retry
        }
        if (current.version !== expectedVersion) {
            throw conflict('expectedVersion', `${type} ${number} is at version ${current.version}, not ${expectedVersion}`);
        }
        if (current.status === 'REVOKED') {
            throw failedPrecondition('document', `${type} ${number} is revoked and cannot be amended`);
        }
        const next = permit && isExhausted(permit) ? { ...amended, status: 'EXHAUSTED' as const } : amended;
        await writeRecord(ctx, documentKey(ctx, type, number, current.version), { ...current, status: 'AMENDED', updatedAt: now, transactionId: ctx.stub.getTxID() });
        await writeRecord(ctx, documentKey(ctx, type, number, next.version), next);
        await writeRecord(ctx, headKey(ctx, type, number), { version: next.version });
        await ctx.stub.putPrivateData(current.collection, contentKey(ctx, type, number, next.version), content);
        emit(ctx, 'DocumentAmended', next);
        return next;
    }

    @Transaction()
    async Revoke(ctx: Context, request: string): Promise<DocumentRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const fields = Fields.parse(request);
        const type = fields.oneOf('type', DOCUMENT_TYPES);
        const agency = requireAgency(caller, `revoke ${type}`, [ISSUER_OF[type]]);
        const number = fields.string('number', DOCUMENT_NUMBER_RULE);
        const reason = fields.string('reason', { maxLength: 500 });
        fields.done();
        const now = transactionTime(ctx);
        const current = await getDocument(ctx, type, number);
        if (current.issuer !== agency.mspId) {
            throw forbidden('caller', `${agency.mspId} did not issue ${type} ${number}`);
        }
        if (current.status === 'REVOKED') {
            if (current.revocation?.reason === reason) {
                return current;
            }
            throw conflict('reason', `${type} ${number} was already revoked for another reason`);
        }
        const revoked: DocumentRecord = { ...current, status: 'REVOKED', revocation: { reason, at: now }, updatedAt: now, transactionId: ctx.stub.getTxID() };
        await writeRecord(ctx, documentKey(ctx, type, number, current.version), revoked);
        emit(ctx, 'DocumentRevoked', revoked);
        return revoked;
    }

    @Transaction(false)
    async Get(ctx: Context, request: string): Promise<DocumentRecord> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const reference = readReference(fields);
        fields.done();
        const record = await getDocument(ctx, reference.type, reference.number, reference.version);
        requireReader(caller, record);
        return asSeenAt(record, transactionTime(ctx));
    }

    /** The confidential content, for members of the document's collection only. */
    @Transaction(false)
    async GetContent(ctx: Context, request: string): Promise<{ contentHash: string; content: string }> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const reference = readReference(fields);
        fields.done();
        const record = await getDocument(ctx, reference.type, reference.number, reference.version);
        const members: readonly string[] = CONTENT_COLLECTIONS[record.collection];
        if (caller.kind !== 'agency' || isAuditor(caller) || !members.includes(caller.mspId)) {
            throw forbidden('caller', `the content of ${record.type} is readable only by ${members.join(', ')}`);
        }
        const content = await ctx.stub.getPrivateData(record.collection, contentKey(ctx, record.type, record.number, record.version));
        return { contentHash: record.contentHash, content: Buffer.from(content).toString('base64') };
    }

    /** Documents held by one enterprise (`holder`) or issued by one agency (`issuer`), current versions. */
    @Transaction(false)
    async List(ctx: Context, request: string): Promise<Page<DocumentRecord>> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const holder = fields.has('holder') ? fields.uscc('holder') : (fields.optionalString('holder'), undefined);
        const issuer = fields.optionalOneOf('issuer', AGENCIES);
        const type = fields.optionalOneOf('type', DOCUMENT_TYPES);
        const page = readPageRequest(fields);
        fields.done();
        if ((holder === undefined) === (issuer === undefined)) {
            throw invalidArgument('holder', 'exactly one of holder and issuer is required');
        }
        if (caller.kind === 'enterprise' && holder !== caller.uscc) {
            throw forbidden('holder', `enterprise ${caller.uscc} may list only its own documents`);
        }
        const prefix = [(holder ?? issuer) as string, ...(type ? [type] : [])];
        const now = transactionTime(ctx);
        return pageOfIndex(ctx, holder ? DOCUMENTS_BY_HOLDER : DOCUMENTS_BY_ISSUER, prefix, page, async ([, docType, number]) => {
            const record = docType && number ? await findDocument(ctx, docType, number) : undefined;
            return record ? asSeenAt(record, now) : undefined;
        });
    }

    /** Every version of a document, oldest first. */
    @Transaction(false)
    async Versions(ctx: Context, request: string): Promise<DocumentRecord[]> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const reference = readReference(fields);
        fields.done();
        const current = await getDocument(ctx, reference.type, reference.number);
        requireReader(caller, current);
        const now = transactionTime(ctx);
        const versions: DocumentRecord[] = [];
        for (let version = 1; version <= current.version; version++) {
            const record = await readRecord<DocumentRecord>(ctx, documentKey(ctx, reference.type, reference.number, version));
            if (record) {
                versions.push(asSeenAt(record, now));
            }
        }
        return versions;
    }
}

function sameIssue(existing: DocumentRecord, candidate: DocumentRecord): boolean {
    const comparable = (record: DocumentRecord): unknown => ({
        type: record.type, number: record.number, issuer: record.issuer, holder: record.holder, validFrom: record.validFrom,
        validTo: record.validTo, summary: record.summary, permit: record.permit, contentHash: record.contentHash,
    });
    return canonicalJson(comparable(existing)) === canonicalJson(comparable(candidate));
}

function sameTerms(existing: DocumentRecord, candidate: DocumentRecord): boolean {
    const terms = (record: DocumentRecord): unknown => ({
        validFrom: record.validFrom, validTo: record.validTo, summary: record.summary, contentHash: record.contentHash,
        goods: record.permit?.goods.map((line) => ({ hsCode: line.hsCode, quantity: line.quantity, unit: line.unit })),
        useLimit: record.permit?.useLimit, bulk: record.permit?.bulk,
    });
    return canonicalJson(terms(existing)) === canonicalJson(terms(candidate));
}

/** New terms keep what was already drawn; an amendment may not take back what was used. */
function carryOver(current: PermitTerms, next: PermitTerms): PermitTerms {
    for (const line of current.goods) {
        if (line.drawn > 0 && !next.goods.some((candidate) => candidate.hsCode === line.hsCode)) {
            throw failedPrecondition('permit.goods', `HS code ${line.hsCode} has ${line.drawn} ${line.unit} drawn and cannot be removed`);
        }
    }
    const goods = next.goods.map((line, index) => {
        const previous = current.goods.find((candidate) => candidate.hsCode === line.hsCode);
        if (previous && previous.unit !== line.unit && previous.drawn > 0) {
            throw failedPrecondition(`permit.goods[${index}].unit`, `cannot change from ${previous.unit} once quantity has been drawn`);
        }
        return { ...line, drawn: previous?.drawn ?? 0 };
    });
    if (next.useLimit < current.usesCount) {
        throw failedPrecondition('permit.useLimit', `${current.usesCount} uses are already counted`);
    }
    return { ...next, goods, usesCount: current.usesCount };
}
