import { Context, Info, Transaction } from 'fabric-contract-api';
import { CounterfoilContract } from '../common/contract';
import { callerOf, type Caller, requireAgency, requireRole, requireWriter } from '../common/caller';
import { conflict, failedPrecondition, forbidden, invalidArgument } from '../common/errors';
import { emit, type EventName } from '../common/events';
import { Fields } from '../common/fields';
import {
    addSeconds, type Page, pageOfIndex, readPageRequest, sameContent, transactionTime, writeIndex, writeRecord,
} from '../common/state';
import {
    AGENCIES, type Agency, CODE_RULE, DOCUMENT_NUMBER_RULE, DOCUMENT_TYPES, IDENTIFIER_RULE, isAgency,
} from '../common/vocabulary';
import { getDocument } from '../documents/records';
import { deadlinesFor } from '../policies/deadlines';
import {
    BY_DOCUMENT, BY_PARTY_STATUS, BY_RECIPIENT, BY_STATUS, BY_SUBJECT, combine, type Confirmation, confirmationKey,
    type Dispatch, dispatchKey, findHandoff, getHandoff, type Handoff, HANDOFF, HANDOFF_STATUSES, type HandoffStatus,
    moveStatus, statusOf,
} from './records';

const MAX_PAYLOAD_SIZE = 1024 ** 4;
const MESSAGE_ID = IDENTIFIER_RULE;

/** Parties to a handoff, the subject enterprise, auditors and the hub's reconciliation may read it. */
function canRead(caller: Caller, handoff: Dispatch): boolean {
    if (caller.kind === 'enterprise') {
        return caller.uscc === handoff.subject;
    }
    return caller.role === 'auditor' || caller.role === 'reconciler' || caller.mspId === handoff.sender || caller.mspId === handoff.recipient;
}

function seesEverything(caller: Caller): boolean {
    return caller.role === 'auditor' || caller.role === 'reconciler';
}

/** Operators and admins of the one agency allowed to take this step. */
function requireActingAgency(caller: Caller, agency: Agency, action: string): void {
    requireWriter(caller);
    const acting = requireAgency(caller, action);
    requireRole(caller, ['operator', 'admin'], action);
    if (acting.mspId !== agency) {
        throw forbidden('caller', `only ${agency} may ${action}; the caller is ${acting.mspId}`);
    }
}

@Info({ title: 'Handoffs', description: 'Documents and data passed between agencies, with receipts and acknowledgements' })
export class HandoffContract extends CounterfoilContract {
    constructor() {
        super('handoffs');
    }

    /**
     * Records that the caller's agency sent a document to another agency. The message id is the
     * sender system's own: resending the same id with the same content returns the existing
     * handoff, with different content it is refused.
     */
    @Transaction()
    async Send(ctx: Context, request: string): Promise<Handoff> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const agency = requireAgency(caller, 'send handoffs');
        requireRole(caller, ['operator', 'admin'], 'send handoffs');
        const fields = Fields.parse(request);
        const messageId = fields.string('messageId', MESSAGE_ID);
        const recipient = fields.oneOf('recipient', AGENCIES);
        const subject = fields.uscc('subject');
        const documentFields = fields.object('document');
        const document = {
            type: documentFields.oneOf('type', DOCUMENT_TYPES),
            number: documentFields.string('number', DOCUMENT_NUMBER_RULE),
        };
        documentFields.done();
        const payloadHash = fields.hash('payloadHash');
        const size = fields.integer('size', { min: 0, max: MAX_PAYLOAD_SIZE });
        fields.done();
        if (recipient === agency.mspId) {
            throw invalidArgument('recipient', 'must be another agency than the sender');
        }
        const sender = agency.mspId;
        const existing = await findHandoff(ctx, sender, messageId);
        const content = { recipient, subject, document, payloadHash, size };
        if (existing) {
            const { dispatch } = existing;
            const previous = { recipient: dispatch.recipient, subject: dispatch.subject, document: dispatch.document, payloadHash: dispatch.payloadHash, size: dispatch.size };
            if (sameContent(previous, content)) {
                return combine(existing.dispatch, existing.confirmation);
            }
            throw conflict('messageId', `${sender} already sent message ${messageId} with different content`);
        }
        const counterfoil = await getDocument(ctx, document.type, document.number);
        if (counterfoil.holder !== subject) {
            throw invalidArgument('subject', `${document.type} ${document.number} is held by ${counterfoil.holder}, not ${subject}`);
        }
        const now = transactionTime(ctx);
        const deadlines = await deadlinesFor(ctx, document.type, sender, recipient);
        const dispatch: Dispatch = {
            sender, messageId, ...content, sentAt: now, deadlines,
            receiptDeadline: addSeconds(now, deadlines.receiptSeconds),
            acknowledgementDeadline: addSeconds(now, deadlines.acknowledgementSeconds),
            retransmissions: 0, transactionId: ctx.stub.getTxID(),
        };
        const confirmation: Confirmation = { attempt: 0 };
        const ownKey = dispatchKey(ctx, sender, messageId);
        const recipientKey = confirmationKey(ctx, sender, messageId);
        await writeRecord(ctx, ownKey, dispatch);
        await writeRecord(ctx, recipientKey, confirmation);
        // Only the sender changes the dispatch and only the recipient the confirmation: every
        // party executing the transaction checks the creator's organisation (requireActingAgency),
        // so a receipt on the ledger is signed by a member of the recipient's own organisation.
        await writeIndex(ctx, BY_RECIPIENT, [recipient, sender, messageId]);
        await writeIndex(ctx, BY_SUBJECT, [subject, sender, messageId]);
        await writeIndex(ctx, BY_DOCUMENT, [document.type, document.number, sender, messageId]);
        await moveStatus(ctx, dispatch, undefined, 'SENT');
        const handoff = combine(dispatch, confirmation);
        emit(ctx, 'HandoffSent', handoff);
        return handoff;
    }

    /** The recipient reports the SHA-256 of what it actually got; a different hash is a MISMATCH. */
    @Transaction()
    async RecordReceipt(ctx: Context, request: string): Promise<Handoff> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const sender = fields.oneOf('sender', AGENCIES);
        const messageId = fields.string('messageId', MESSAGE_ID);
        const payloadHash = fields.hash('payloadHash');
        fields.done();
        const { dispatch, confirmation } = await getHandoff(ctx, sender, messageId);
        requireActingAgency(caller, dispatch.recipient, 'record receipt of this handoff');
        const status = statusOf(dispatch, confirmation);
        const reported = confirmation?.receipt;
        if (reported && reported.payloadHash === payloadHash && (status !== 'SENT')) {
            return combine(dispatch, confirmation); // the same report again
        }
        if (status === 'CANCELLED') {
            throw failedPrecondition('messageId', `the sender cancelled ${messageId}`);
        }
        if (status === 'RECEIVED' || status === 'ACCEPTED' || status === 'REJECTED') {
            throw conflict('payloadHash', `receipt of ${messageId} was already recorded with hash ${reported?.payloadHash ?? ''}`);
        }
        const now = transactionTime(ctx);
        const next: Confirmation = {
            attempt: dispatch.retransmissions,
            receipt: { payloadHash, matches: payloadHash === dispatch.payloadHash, at: now, transactionId: ctx.stub.getTxID() },
        };
        return this.confirm(ctx, dispatch, status, next, next.receipt?.matches ? 'HandoffReceived' : 'HandoffMismatch');
    }

    /** The recipient's business decision on what it received. */
    @Transaction()
    async Acknowledge(ctx: Context, request: string): Promise<Handoff> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const sender = fields.oneOf('sender', AGENCIES);
        const messageId = fields.string('messageId', MESSAGE_ID);
        const decision = fields.oneOf('decision', ['ACCEPTED', 'REJECTED'] as const);
        const reasonCode = fields.optionalString('reasonCode', CODE_RULE);
        const text = fields.optionalString('text', { maxLength: 1000 });
        fields.done();
        if (decision === 'REJECTED' && reasonCode === undefined) {
            throw invalidArgument('reasonCode', 'is required when the decision is REJECTED');
        }
        const { dispatch, confirmation } = await getHandoff(ctx, sender, messageId);
        requireActingAgency(caller, dispatch.recipient, 'acknowledge this handoff');
        const status = statusOf(dispatch, confirmation);
        const previous = confirmation?.acknowledgement;
        if (previous) {
            if (previous.decision === decision && previous.reasonCode === reasonCode && previous.text === text) {
                return combine(dispatch, confirmation);
            }
            throw conflict('decision', `${messageId} was already ${previous.decision}`);
        }
        if (status !== 'RECEIVED') {
            throw failedPrecondition('messageId', status === 'MISMATCH'
                ? `${messageId} arrived with different content; the sender must retransmit before it can be acknowledged`
                : `${messageId} is ${status}; only a received handoff can be acknowledged`);
        }
        const next: Confirmation = {
            ...(confirmation as Confirmation),
            acknowledgement: { decision, reasonCode, text, at: transactionTime(ctx), transactionId: ctx.stub.getTxID() },
        };
        return this.confirm(ctx, dispatch, status, next, decision === 'ACCEPTED' ? 'HandoffAccepted' : 'HandoffRejected');
    }

    /**
     * The sender sends the same payload again. `attempt` numbers the retransmission (1 for the
     * first), so that a retried call is recognised instead of counted twice.
     */
    @Transaction()
    async Retransmit(ctx: Context, request: string): Promise<Handoff> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const messageId = fields.string('messageId', MESSAGE_ID);
        const attempt = fields.integer('attempt', { min: 1, max: 1000 });
        fields.done();
        requireWriter(caller);
        const agency = requireAgency(caller, 'retransmit handoffs');
        const { dispatch, confirmation } = await getHandoff(ctx, agency.mspId, messageId);
        requireActingAgency(caller, dispatch.sender, 'retransmit this handoff');
        if (dispatch.retransmissions === attempt) {
            return combine(dispatch, confirmation);
        }
        if (dispatch.retransmissions !== attempt - 1) {
            throw conflict('attempt', `${messageId} has been retransmitted ${dispatch.retransmissions} times; the next attempt is ${dispatch.retransmissions + 1}`);
        }
        const status = statusOf(dispatch, confirmation);
        if (status !== 'SENT' && status !== 'MISMATCH') {
            throw failedPrecondition('messageId', `${messageId} is ${status}; only a handoff not yet received, or received with different content, can be retransmitted`);
        }
        const now = transactionTime(ctx);
        const next: Dispatch = {
            ...dispatch, retransmissions: attempt, lastRetransmittedAt: now,
            receiptDeadline: addSeconds(now, dispatch.deadlines.receiptSeconds),
            acknowledgementDeadline: addSeconds(now, dispatch.deadlines.acknowledgementSeconds),
        };
        return this.dispatchChanged(ctx, dispatch, next, confirmation, 'HandoffRetransmitted');
    }

    @Transaction()
    async Cancel(ctx: Context, request: string): Promise<Handoff> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const messageId = fields.string('messageId', MESSAGE_ID);
        const reason = fields.string('reason', { maxLength: 500 });
        fields.done();
        requireWriter(caller);
        const agency = requireAgency(caller, 'cancel handoffs');
        const { dispatch, confirmation } = await getHandoff(ctx, agency.mspId, messageId);
        requireActingAgency(caller, dispatch.sender, 'cancel this handoff');
        const status = statusOf(dispatch, confirmation);
        if (dispatch.cancellation) {
            if (dispatch.cancellation.reason === reason) {
                return combine(dispatch, confirmation);
            }
            throw conflict('reason', `${messageId} was already cancelled for another reason`);
        }
        if (status === 'ACCEPTED' || status === 'REJECTED') {
            throw failedPrecondition('messageId', `${messageId} was already ${status} by ${dispatch.recipient}`);
        }
        const next: Dispatch = { ...dispatch, cancellation: { reason, at: transactionTime(ctx), transactionId: ctx.stub.getTxID() } };
        return this.dispatchChanged(ctx, dispatch, next, confirmation, 'HandoffCancelled');
    }

    @Transaction(false)
    async Get(ctx: Context, request: string): Promise<Handoff> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const sender = fields.oneOf('sender', AGENCIES);
        const messageId = fields.string('messageId', MESSAGE_ID);
        fields.done();
        const { dispatch, confirmation } = await getHandoff(ctx, sender, messageId);
        if (!canRead(caller, dispatch)) {
            throw forbidden('caller', `only ${dispatch.sender}, ${dispatch.recipient} and the subject enterprise may read ${messageId}`);
        }
        return combine(dispatch, confirmation);
    }

    /**
     * Lists handoffs by exactly one of: `sender`, `recipient`, `subject` (an enterprise's USCC),
     * `document` ({type, number}), `party` (an agency, sending or receiving, with an optional
     * `status`), or `status` alone (auditors and reconciliation only).
     */
    @Transaction(false)
    async List(ctx: Context, request: string): Promise<Page<Handoff>> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const sender = fields.optionalOneOf('sender', AGENCIES);
        const recipient = fields.optionalOneOf('recipient', AGENCIES);
        const party = fields.optionalOneOf('party', AGENCIES);
        const subject = fields.has('subject') ? fields.uscc('subject') : (fields.optionalString('subject'), undefined);
        const documentFields = fields.optionalObject('document');
        const document = documentFields ? [documentFields.oneOf('type', DOCUMENT_TYPES), documentFields.string('number', DOCUMENT_NUMBER_RULE)] : undefined;
        documentFields?.done();
        const status = fields.optionalOneOf('status', HANDOFF_STATUSES);
        const page = readPageRequest(fields);
        fields.done();

        const selectors = [sender, recipient, party, subject, document].filter((selector) => selector !== undefined).length;
        if (selectors > 1 || (selectors === 0 && status === undefined)) {
            throw invalidArgument('request', 'give exactly one of sender, recipient, party, subject, document, or status alone');
        }
        if (status !== undefined && selectors === 1 && party === undefined) {
            throw invalidArgument('status', 'filters only a listing by party');
        }
        const own = caller.kind === 'agency' ? caller.mspId : caller.uscc;
        const mayList = seesEverything(caller)
            || (subject !== undefined && subject === own)
            || (document !== undefined)
            || [sender, recipient, party].includes(own as Agency);
        if (!mayList) {
            throw forbidden('caller', `${own} may list only handoffs it sends, receives or is the subject of`);
        }
        const resolve = async (senderOf: string | undefined, messageId: string | undefined): Promise<Handoff | undefined> => {
            if (!senderOf || !messageId || !isAgency(senderOf)) {
                return undefined;
            }
            const found = await findHandoff(ctx, senderOf, messageId);
            return found && canRead(caller, found.dispatch) ? combine(found.dispatch, found.confirmation) : undefined;
        };
        if (sender) {
            return pageOfIndex(ctx, HANDOFF, [sender], page, ([from, id]) => resolve(from, id));
        }
        if (recipient) {
            return pageOfIndex(ctx, BY_RECIPIENT, [recipient], page, ([, from, id]) => resolve(from, id));
        }
        if (subject) {
            return pageOfIndex(ctx, BY_SUBJECT, [subject], page, ([, from, id]) => resolve(from, id));
        }
        if (document) {
            return pageOfIndex(ctx, BY_DOCUMENT, document, page, ([, , from, id]) => resolve(from, id));
        }
        if (party) {
            return pageOfIndex(ctx, BY_PARTY_STATUS, status ? [party, status] : [party], page, ([, , from, id]) => resolve(from, id));
        }
        return pageOfIndex(ctx, BY_STATUS, [status as HandoffStatus], page, ([, from, id]) => resolve(from, id));
    }

    private async confirm(ctx: Context, dispatch: Dispatch, from: HandoffStatus, next: Confirmation, event: EventName): Promise<Handoff> {
        await writeRecord(ctx, confirmationKey(ctx, dispatch.sender, dispatch.messageId), next);
        const handoff = combine(dispatch, next);
        await moveStatus(ctx, dispatch, from, handoff.status);
        emit(ctx, event, handoff);
        return handoff;
    }

    private async dispatchChanged(ctx: Context, previous: Dispatch, next: Dispatch, confirmation: Confirmation | undefined, event: EventName): Promise<Handoff> {
        await writeRecord(ctx, dispatchKey(ctx, next.sender, next.messageId), next);
        const handoff = combine(next, confirmation);
        await moveStatus(ctx, next, statusOf(previous, confirmation), handoff.status);
        emit(ctx, event, handoff);
        return handoff;
    }
}
