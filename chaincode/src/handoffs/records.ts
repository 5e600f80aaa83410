import type { Context } from 'fabric-contract-api';
import { notFound } from '../common/errors';
import { deleteIndex, readRecord, writeIndex } from '../common/state';
import type { Agency, DocumentType } from '../common/vocabulary';
import type { Deadlines } from '../policies/deadlines';

export const HANDOFF_STATUSES = ['SENT', 'RECEIVED', 'MISMATCH', 'ACCEPTED', 'REJECTED', 'CANCELLED'] as const;
export type HandoffStatus = (typeof HANDOFF_STATUSES)[number];

/** The sender's half of a handoff: written only by the sender, endorsed by the sender's peer. */
export interface Dispatch {
    readonly sender: Agency;
    readonly messageId: string;
    readonly recipient: Agency;
    /** The enterprise whose data this is (USCC). */
    readonly subject: string;
    readonly document: { readonly type: DocumentType; readonly number: string };
    readonly payloadHash: string;
    readonly size: number;
    readonly sentAt: string;
    readonly deadlines: Deadlines;
    readonly receiptDeadline: string;
    readonly acknowledgementDeadline: string;
    readonly retransmissions: number;
    readonly lastRetransmittedAt?: string;
    readonly cancellation?: { readonly reason: string; readonly at: string; readonly transactionId: string };
    readonly transactionId: string;
}

/** The recipient's half: written only by the recipient, endorsed by the recipient's peer. */
export interface Confirmation {
    /** The number of retransmissions the sender had made when the recipient last reported. */
    readonly attempt: number;
    readonly receipt?: { readonly payloadHash: string; readonly matches: boolean; readonly at: string; readonly transactionId: string };
    readonly acknowledgement?: {
        readonly decision: 'ACCEPTED' | 'REJECTED';
        readonly reasonCode?: string;
        readonly text?: string;
        readonly at: string;
        readonly transactionId: string;
    };
}

export interface Handoff extends Dispatch {
    readonly status: HandoffStatus;
    readonly receipt?: Confirmation['receipt'];
    readonly acknowledgement?: Confirmation['acknowledgement'];
}

export const HANDOFF = 'handoff';
export const CONFIRMATION = 'handoff-confirmation';
export const BY_RECIPIENT = 'handoff~recipient';
export const BY_SUBJECT = 'handoff~subject';
export const BY_DOCUMENT = 'handoff~document';
export const BY_STATUS = 'handoff~status';
export const BY_PARTY_STATUS = 'handoff~party-status';

export function dispatchKey(ctx: Context, sender: string, messageId: string): string {
    return ctx.stub.createCompositeKey(HANDOFF, [sender, messageId]);
}

export function confirmationKey(ctx: Context, sender: string, messageId: string): string {
    return ctx.stub.createCompositeKey(CONFIRMATION, [sender, messageId]);
}

export function statusOf(dispatch: Dispatch, confirmation: Confirmation | undefined): HandoffStatus {
    if (dispatch.cancellation) {
        return 'CANCELLED';
    }
    if (confirmation?.acknowledgement) {
        return confirmation.acknowledgement.decision;
    }
    const receipt = confirmation?.receipt;
    if (receipt?.matches) {
        return 'RECEIVED';
    }
    // A mismatch stands until the sender retransmits; then the handoff awaits a new receipt.
    if (receipt && confirmation.attempt >= dispatch.retransmissions) {
        return 'MISMATCH';
    }
    return 'SENT';
}

export function combine(dispatch: Dispatch, confirmation: Confirmation | undefined): Handoff {
    return {
        ...dispatch,
        status: statusOf(dispatch, confirmation),
        receipt: confirmation?.receipt,
        acknowledgement: confirmation?.acknowledgement,
    };
}

export async function findHandoff(ctx: Context, sender: string, messageId: string): Promise<{ dispatch: Dispatch; confirmation: Confirmation | undefined } | undefined> {
    const dispatch = await readRecord<Dispatch>(ctx, dispatchKey(ctx, sender, messageId));
    if (!dispatch) {
        return undefined;
    }
    return { dispatch, confirmation: await readRecord<Confirmation>(ctx, confirmationKey(ctx, sender, messageId)) };
}

export async function getHandoff(ctx: Context, sender: string, messageId: string): Promise<{ dispatch: Dispatch; confirmation: Confirmation | undefined }> {
    const found = await findHandoff(ctx, sender, messageId);
    if (!found) {
        throw notFound('messageId', `no handoff ${messageId} from ${sender}`);
    }
    return found;
}

function statusEntries(handoff: Pick<Dispatch, 'sender' | 'recipient' | 'messageId'>, status: HandoffStatus): [string, string[]][] {
    return [
        [BY_STATUS, [status, handoff.sender, handoff.messageId]],
        [BY_PARTY_STATUS, [handoff.sender, status, handoff.sender, handoff.messageId]],
        [BY_PARTY_STATUS, [handoff.recipient, status, handoff.sender, handoff.messageId]],
    ];
}

/** Keeps the status indexes in step with a handoff whose status changes in this transaction. */
export async function moveStatus(ctx: Context, handoff: Dispatch, from: HandoffStatus | undefined, to: HandoffStatus): Promise<void> {
    if (from === to) {
        return;
    }
    if (from !== undefined) {
        for (const [index, attributes] of statusEntries(handoff, from)) {
            await deleteIndex(ctx, index, attributes);
        }
    }
    for (const [index, attributes] of statusEntries(handoff, to)) {
        await writeIndex(ctx, index, attributes);
    }
}
