import { Context, Info, Transaction } from 'fabric-contract-api';
import { CounterfoilContract } from '../common/contract';
import { callerOf, type Caller, partyOf, requireWriter } from '../common/caller';
import { forbidden } from '../common/errors';
import { emit } from '../common/events';
import { Fields } from '../common/fields';
import { type Page, pageOfIndex, readPageRequest, readRecord, transactionTime, writeRecord } from '../common/state';
import { CONTENT_COLLECTIONS, DOCUMENT_NUMBER_RULE, DOCUMENT_TYPES, type DocumentType } from '../common/vocabulary';
import { type DocumentRecord, getDocument } from '../documents/records';
import { type AttachmentDigest, placeMessage, readAttachments } from './attachments';

/** One message of a document's thread, as the ledger keeps it: who wrote it, and the digests of what was written. */
export interface ThreadMessage {
    readonly type: DocumentType;
    readonly number: string;
    readonly sequence: number;
    readonly author: string;
    /** SHA-256 of the message as its parties keep it (text and attachments' names and digests). */
    readonly messageHash: string;
    readonly attachments?: AttachmentDigest[];
    /** Who may read the thread, sorted: the document's holder and the agencies of its content collection. */
    readonly parties: string[];
    readonly at: string;
    readonly transactionId: string;
}

export const THREAD_HEAD = 'thread-head';
export const THREAD_MESSAGE = 'thread-message';

/**
 * A document's thread is between its holder and the agencies the document is for (its content
 * collection's members: a declaration's customs, tax and forex; a licence's commerce and customs).
 */
export function threadParties(document: DocumentRecord): string[] {
    return [...new Set<string>([document.holder, document.issuer, ...CONTENT_COLLECTIONS[document.collection]])].sort();
}

function canRead(caller: Caller, parties: readonly string[]): boolean {
    return caller.role === 'auditor' || parties.includes(partyOf(caller));
}

function sequenceKey(sequence: number): string {
    return String(sequence).padStart(6, '0');
}

@Info({ title: 'Threads', description: 'Messages about a document (a declaration, a licence) between the enterprise and the agencies it concerns' })
export class ThreadContract extends CounterfoilContract {
    constructor() {
        super('threads');
    }

    /**
     * Adds a message to a document's thread. Sequences are consecutive from 1, so that the thread's
     * length is on the ledger and a thread kept elsewhere can be shown complete; sending the same
     * message again returns it.
     */
    @Transaction()
    async Post(ctx: Context, request: string): Promise<ThreadMessage> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const fields = Fields.parse(request);
        const type = fields.oneOf('type', DOCUMENT_TYPES);
        const number = fields.string('number', DOCUMENT_NUMBER_RULE);
        const sequence = fields.integer('sequence', { min: 1, max: 100_000 });
        const messageHash = fields.hash('messageHash');
        const attachments = readAttachments(fields);
        fields.done();
        const document = await getDocument(ctx, type, number);
        const parties = threadParties(document);
        const author = partyOf(caller);
        if (!parties.includes(author)) {
            throw forbidden('caller', `${author} is not a party to the thread of ${type} ${number} (${parties.join(', ')})`);
        }
        const headKey = ctx.stub.createCompositeKey(THREAD_HEAD, [type, number]);
        const head = await readRecord<{ messageCount: number }>(ctx, headKey) ?? { messageCount: 0 };
        const key = ctx.stub.createCompositeKey(THREAD_MESSAGE, [type, number, sequenceKey(sequence)]);
        const retried = await placeMessage<ThreadMessage>(ctx, key, sequence, head.messageCount, { author, messageHash, attachments }, `the thread of ${type} ${number}`);
        if (retried) {
            return retried;
        }
        const message: ThreadMessage = {
            type, number, sequence, author, messageHash, ...(attachments ? { attachments } : {}), parties, at: transactionTime(ctx), transactionId: ctx.stub.getTxID(),
        };
        await writeRecord(ctx, key, message);
        await writeRecord(ctx, headKey, { messageCount: sequence });
        emit(ctx, 'ThreadMessageAdded', message);
        return message;
    }

    /** Who a document's thread is between, and how many messages it has (its parties and auditors only). */
    @Transaction(false)
    async Head(ctx: Context, request: string): Promise<{ type: DocumentType; number: string; parties: string[]; messageCount: number }> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const type = fields.oneOf('type', DOCUMENT_TYPES);
        const number = fields.string('number', DOCUMENT_NUMBER_RULE);
        fields.done();
        const parties = threadParties(await getDocument(ctx, type, number));
        if (!canRead(caller, parties)) {
            throw forbidden('caller', `${partyOf(caller)} is not a party to the thread of ${type} ${number}`);
        }
        const head = await readRecord<{ messageCount: number }>(ctx, ctx.stub.createCompositeKey(THREAD_HEAD, [type, number]));
        return { type, number, parties, messageCount: head?.messageCount ?? 0 };
    }

    /** A document's thread in order (its parties and auditors only). */
    @Transaction(false)
    async Messages(ctx: Context, request: string): Promise<Page<ThreadMessage>> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const type = fields.oneOf('type', DOCUMENT_TYPES);
        const number = fields.string('number', DOCUMENT_NUMBER_RULE);
        const page = readPageRequest(fields);
        fields.done();
        const parties = threadParties(await getDocument(ctx, type, number));
        if (!canRead(caller, parties)) {
            throw forbidden('caller', `${partyOf(caller)} is not a party to the thread of ${type} ${number}`);
        }
        return pageOfIndex(ctx, THREAD_MESSAGE, [type, number], page, ([docType, docNumber, sequence]) =>
            readRecord<ThreadMessage>(ctx, ctx.stub.createCompositeKey(THREAD_MESSAGE, [docType ?? '', docNumber ?? '', sequence ?? ''])));
    }
}
