import { Context, Info, Transaction } from 'fabric-contract-api';
import { CounterfoilContract } from '../common/contract';
import { callerOf, type Caller, partyOf, requireWriter } from '../common/caller';
import { conflict, failedPrecondition, forbidden, invalidArgument, notFound } from '../common/errors';
import { emit } from '../common/events';
import { Fields } from '../common/fields';
import {
    deleteIndex, type Page, pageOfIndex, readPageRequest, readRecord, sameContent, transactionTime, writeIndex, writeRecord,
} from '../common/state';
import { isUscc } from '../common/uscc';
import {
    AGENCIES, CODE_RULE, DOCUMENT_NUMBER_RULE, DOCUMENT_TYPES, type DocumentType, IDENTIFIER_RULE,
} from '../common/vocabulary';
import { getDocument } from '../documents/records';
import { getHandoff } from '../handoffs/records';
import type { Finding } from '../foreign/signers';
import { type AttachmentDigest, placeMessage, readAttachments } from '../threads/attachments';

export const CASE_REASONS = ['NOT_RECEIVED', 'CONTENT_MISMATCH', 'SIGNATURE_MISMATCH', 'DATA_ERROR', 'OTHER'] as const;
export type CaseReason = (typeof CASE_REASONS)[number];
export const CASE_STATUSES = ['OPEN', 'RESOLVED', 'WITHDRAWN'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export type CaseSubject =
    | { readonly kind: 'HANDOFF'; readonly sender: string; readonly messageId: string }
    | { readonly kind: 'DOCUMENT'; readonly type: DocumentType; readonly number: string }
    /** Opened by the ledger itself when a foreign certificate's signature is not what customs has on file. */
    | { readonly kind: 'FOREIGN_CERTIFICATE'; readonly authorityId: string; readonly number: string; readonly documentHash: string };

export interface CaseRecord {
    readonly caseId: string;
    readonly subject: CaseSubject;
    readonly reason: CaseReason;
    /** Agencies (MSP ids) and enterprises (USCCs) that may see and write the case, sorted. */
    readonly parties: string[];
    readonly openedBy: string;
    readonly openedAt: string;
    /** SHA-256 of the opening statement; the statement itself stays off the ledger. */
    readonly statementHash?: string;
    /** What was expected and what was found, when the ledger opened the case on its own finding. */
    readonly findings?: Finding[];
    readonly status: CaseStatus;
    readonly messageCount: number;
    readonly outcome?: { readonly code: string; readonly by: string; readonly at: string; readonly transactionId: string; readonly noteHash?: string };
    readonly updatedAt: string;
    readonly transactionId: string;
}

export interface CaseMessage {
    readonly caseId: string;
    readonly sequence: number;
    readonly author: string;
    /** SHA-256 of the message as its parties keep it (text and attachments' names and digests). */
    readonly messageHash: string;
    readonly attachments?: AttachmentDigest[];
    readonly at: string;
    readonly transactionId: string;
}

export const CASE = 'case';
export const CASE_MESSAGE = 'case-message';
const BY_PARTY = 'case~party-status';
const BY_SUBJECT = 'case~subject';
const CASE_ID = IDENTIFIER_RULE;
/** The ids of the cases the ledger opens itself (on a foreign certificate's verdict) start so; no party may choose one. */
export const LEDGER_CASE_PREFIX = 'sig:';

function caseKey(ctx: Context, caseId: string): string {
    return ctx.stub.createCompositeKey(CASE, [caseId]);
}

/** A case subject as key parts: its kind, then what names it (sender and message id; type and number; authority and number). */
export function subjectAttributes(subject: CaseSubject): string[] {
    switch (subject.kind) {
        case 'HANDOFF': return ['HANDOFF', subject.sender, subject.messageId];
        case 'DOCUMENT': return ['DOCUMENT', subject.type, subject.number];
        case 'FOREIGN_CERTIFICATE': return ['FOREIGN_CERTIFICATE', subject.authorityId, subject.number];
    }
}

/** Writes a new case with its indexes, in the transaction that opens it (the caller emits the event). */
export async function writeNewCase(ctx: Context, record: CaseRecord): Promise<void> {
    await writeRecord(ctx, caseKey(ctx, record.caseId), record);
    for (const party of record.parties) {
        await writeIndex(ctx, BY_PARTY, [party, record.status, record.caseId]);
    }
    await writeIndex(ctx, BY_SUBJECT, [...subjectAttributes(record.subject), record.caseId]);
}

function canRead(caller: Caller, record: CaseRecord): boolean {
    return caller.role === 'auditor' || caller.role === 'reconciler' || record.parties.includes(partyOf(caller));
}

async function getCase(ctx: Context, caseId: string): Promise<CaseRecord> {
    const record = await readRecord<CaseRecord>(ctx, caseKey(ctx, caseId));
    if (!record) {
        throw notFound('caseId', `no case ${caseId}`);
    }
    return record;
}

/** What a party may open a case on, or list cases by; the ledger opens cases on foreign certificates itself. */
type PartySubject = Exclude<CaseSubject, { kind: 'FOREIGN_CERTIFICATE' }>;

function readSubject(fields: Fields): PartySubject {
    const subject = fields.object('subject');
    const kind = subject.oneOf('kind', ['HANDOFF', 'DOCUMENT'] as const);
    const result: PartySubject = kind === 'HANDOFF'
        ? { kind, sender: subject.oneOf('sender', AGENCIES), messageId: subject.string('messageId', CASE_ID) }
        : { kind, type: subject.oneOf('type', DOCUMENT_TYPES), number: subject.string('number', DOCUMENT_NUMBER_RULE) };
    subject.done();
    return result;
}

@Info({ title: 'Cases', description: 'Disputes and unconfirmed transfers being resolved between the parties' })
export class CaseContract extends CounterfoilContract {
    constructor() {
        super('cases');
    }

    /**
     * Opens a case on a handoff (by its sender, recipient or subject enterprise, or by the hub's
     * reconciliation) or on a document (by its issuer, its holder or any agency that relies on it).
     * The case id is the opener's; opening the same case twice returns the first.
     */
    @Transaction()
    async Open(ctx: Context, request: string): Promise<CaseRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const fields = Fields.parse(request);
        const caseId = fields.string('caseId', CASE_ID);
        if (caseId.startsWith(LEDGER_CASE_PREFIX)) {
            throw invalidArgument('caseId', `must not start with ${LEDGER_CASE_PREFIX}: such ids are the ledger's own, for the cases it opens on foreign certificates`);
        }
        const subject = readSubject(fields);
        const reason = fields.oneOf('reason', CASE_REASONS);
        const statementHash = fields.optionalHash('statementHash');
        fields.done();
        const opener = partyOf(caller);
        let parties: string[];
        if (subject.kind === 'HANDOFF') {
            const { dispatch } = await getHandoff(ctx, subject.sender, subject.messageId);
            parties = [dispatch.sender, dispatch.recipient, dispatch.subject];
            if (!parties.includes(opener) && caller.role !== 'reconciler') {
                throw forbidden('caller', `${opener} is not a party to handoff ${subject.messageId}`);
            }
        } else {
            const document = await getDocument(ctx, subject.type, subject.number);
            parties = [document.issuer, document.holder];
            if (caller.kind === 'enterprise' && caller.uscc !== document.holder) {
                throw forbidden('caller', `enterprise ${caller.uscc} does not hold ${subject.type} ${subject.number}`);
            }
            if (caller.role === 'reconciler') {
                throw forbidden('caller', 'reconciliation opens cases on handoffs only');
            }
        }
        if (caller.role !== 'reconciler' && !parties.includes(opener)) {
            parties.push(opener);
        }
        parties = [...new Set(parties)].sort();
        const now = transactionTime(ctx);
        const record: CaseRecord = {
            caseId, subject, reason, parties, openedBy: opener, openedAt: now, statementHash, status: 'OPEN',
            messageCount: 0, updatedAt: now, transactionId: ctx.stub.getTxID(),
        };
        const existing = await readRecord<CaseRecord>(ctx, caseKey(ctx, caseId));
        if (existing) {
            const same = sameContent(
                { subject: existing.subject, reason: existing.reason, openedBy: existing.openedBy, statementHash: existing.statementHash },
                { subject, reason, openedBy: opener, statementHash },
            );
            if (same) {
                return existing;
            }
            throw conflict('caseId', `case ${caseId} already exists with different particulars`);
        }
        await writeNewCase(ctx, record);
        emit(ctx, 'CaseOpened', record);
        return record;
    }

    /** Adds a message to the thread: its hash, its attachments' digests and its author go on the ledger; the text and files stay with the parties. */
    @Transaction()
    async AddMessage(ctx: Context, request: string): Promise<CaseMessage> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const fields = Fields.parse(request);
        const caseId = fields.string('caseId', CASE_ID);
        const messageHash = fields.hash('messageHash');
        const sequence = fields.integer('sequence', { min: 1, max: 100_000 });
        const attachments = readAttachments(fields);
        fields.done();
        const record = await getCase(ctx, caseId);
        const author = partyOf(caller);
        if (!record.parties.includes(author)) {
            throw forbidden('caller', `${author} is not a party to case ${caseId}`);
        }
        const key = ctx.stub.createCompositeKey(CASE_MESSAGE, [caseId, String(sequence).padStart(6, '0')]);
        const retried = await placeMessage<CaseMessage>(ctx, key, sequence, record.messageCount, { author, messageHash, attachments }, `case ${caseId}`);
        if (retried) {
            return retried;
        }
        if (record.status !== 'OPEN') {
            throw failedPrecondition('caseId', `case ${caseId} is ${record.status}`);
        }
        const now = transactionTime(ctx);
        const message: CaseMessage = { caseId, sequence, author, messageHash, ...(attachments ? { attachments } : {}), at: now, transactionId: ctx.stub.getTxID() };
        await writeRecord(ctx, key, message);
        const updated: CaseRecord = { ...record, messageCount: sequence, updatedAt: now, transactionId: ctx.stub.getTxID() };
        await writeRecord(ctx, caseKey(ctx, caseId), updated);
        emit(ctx, 'CaseMessageAdded', { ...message, caseRecord: updated });
        return message;
    }

    /** Settles a case with a resolution code. Agencies party to it, or reconciliation, may resolve. */
    @Transaction()
    async Resolve(ctx: Context, request: string): Promise<CaseRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const fields = Fields.parse(request);
        const caseId = fields.string('caseId', CASE_ID);
        const code = fields.string('resolutionCode', CODE_RULE);
        const noteHash = fields.optionalHash('noteHash');
        fields.done();
        const record = await getCase(ctx, caseId);
        const by = partyOf(caller);
        if (caller.kind === 'enterprise') {
            throw forbidden('caller', 'enterprises may withdraw their own cases but not resolve them');
        }
        if (caller.role !== 'reconciler' && !record.parties.includes(by)) {
            throw forbidden('caller', `${by} is not a party to case ${caseId}`);
        }
        return this.close(ctx, record, 'RESOLVED', code, by, noteHash, 'CaseResolved');
    }

    /** The party that opened a case may withdraw it. */
    @Transaction()
    async Withdraw(ctx: Context, request: string): Promise<CaseRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const fields = Fields.parse(request);
        const caseId = fields.string('caseId', CASE_ID);
        const noteHash = fields.optionalHash('noteHash');
        fields.done();
        const record = await getCase(ctx, caseId);
        const by = partyOf(caller);
        if (record.openedBy !== by) {
            throw forbidden('caller', `only ${record.openedBy}, who opened case ${caseId}, may withdraw it`);
        }
        return this.close(ctx, record, 'WITHDRAWN', 'WITHDRAWN', by, noteHash, 'CaseWithdrawn');
    }

    @Transaction(false)
    async Get(ctx: Context, request: string): Promise<CaseRecord> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const caseId = fields.string('caseId', CASE_ID);
        fields.done();
        const record = await getCase(ctx, caseId);
        if (!canRead(caller, record)) {
            throw forbidden('caller', `${partyOf(caller)} is not a party to case ${caseId}`);
        }
        return record;
    }

    @Transaction(false)
    async Messages(ctx: Context, request: string): Promise<Page<CaseMessage>> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const caseId = fields.string('caseId', CASE_ID);
        const page = readPageRequest(fields);
        fields.done();
        const record = await getCase(ctx, caseId);
        if (!canRead(caller, record)) {
            throw forbidden('caller', `${partyOf(caller)} is not a party to case ${caseId}`);
        }
        return pageOfIndex(ctx, CASE_MESSAGE, [caseId], page, ([id, sequence]) =>
            readRecord<CaseMessage>(ctx, ctx.stub.createCompositeKey(CASE_MESSAGE, [id ?? '', sequence ?? ''])));
    }

    /** Cases of one party (an agency's MSP id or an enterprise's USCC), optionally by status, or on one subject. */
    @Transaction(false)
    async List(ctx: Context, request: string): Promise<Page<CaseRecord>> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const party = fields.optionalString('party', { maxLength: 18 });
        const status = fields.optionalOneOf('status', CASE_STATUSES);
        const subject = fields.has('subject') ? readSubject(fields) : (fields.optionalObject('subject'), undefined);
        const page = readPageRequest(fields);
        fields.done();
        if ((party === undefined) === (subject === undefined)) {
            throw invalidArgument('party', 'exactly one of party and subject is required');
        }
        if (party !== undefined && !(AGENCIES as readonly string[]).includes(party) && !isUscc(party)) {
            throw invalidArgument('party', 'must be an agency MSP id or an enterprise USCC');
        }
        if (status !== undefined && party === undefined) {
            throw invalidArgument('status', 'filters only a listing by party');
        }
        const everything = caller.role === 'auditor' || caller.role === 'reconciler';
        if (party !== undefined && !everything && party !== partyOf(caller)) {
            throw forbidden('party', `${partyOf(caller)} may list only its own cases`);
        }
        const resolve = async (caseId: string | undefined): Promise<CaseRecord | undefined> => {
            const record = caseId ? await readRecord<CaseRecord>(ctx, caseKey(ctx, caseId)) : undefined;
            return record && canRead(caller, record) ? record : undefined;
        };
        if (subject) {
            return pageOfIndex(ctx, BY_SUBJECT, subjectAttributes(subject), page, (attributes) => resolve(attributes[3]));
        }
        return pageOfIndex(ctx, BY_PARTY, status ? [party as string, status] : [party as string], page, ([, , caseId]) => resolve(caseId));
    }

    private async close(ctx: Context, record: CaseRecord, status: 'RESOLVED' | 'WITHDRAWN', code: string, by: string, noteHash: string | undefined, event: 'CaseResolved' | 'CaseWithdrawn'): Promise<CaseRecord> {
        if (record.status === status && record.outcome?.code === code && record.outcome.by === by) {
            return record;
        }
        if (record.status !== 'OPEN') {
            throw failedPrecondition('caseId', `case ${record.caseId} is already ${record.status}`);
        }
        const now = transactionTime(ctx);
        const closed: CaseRecord = {
            ...record, status, outcome: { code, by, at: now, transactionId: ctx.stub.getTxID(), noteHash }, updatedAt: now, transactionId: ctx.stub.getTxID(),
        };
        await writeRecord(ctx, caseKey(ctx, record.caseId), closed);
        await this.indexParties(ctx, closed, record.status);
        emit(ctx, event, closed);
        return closed;
    }

    private async indexParties(ctx: Context, record: CaseRecord, previous: CaseStatus): Promise<void> {
        for (const party of record.parties) {
            await deleteIndex(ctx, BY_PARTY, [party, previous, record.caseId]);
            await writeIndex(ctx, BY_PARTY, [party, record.status, record.caseId]);
        }
    }
}
