import type { Context } from 'fabric-contract-api';
import { readRecord } from '../common/state';
import type { Agency, DocumentType } from '../common/vocabulary';

export const ANY = '*';

export interface DeadlinePolicy {
    readonly documentType: DocumentType | typeof ANY;
    readonly sender: Agency | typeof ANY;
    readonly recipient: Agency | typeof ANY;
    /** How long the recipient has to confirm receipt, from the time of sending. */
    readonly receiptSeconds: number;
    /** How long the recipient has to accept or reject, from the time of sending. */
    readonly acknowledgementSeconds: number;
    readonly setBy: string;
    readonly setAt: string;
    readonly transactionId: string;
}

export interface Deadlines {
    readonly receiptSeconds: number;
    readonly acknowledgementSeconds: number;
    /** The policy the deadlines came from, or 'default' when none applies. */
    readonly source: string;
}

/** Used when no policy on the ledger covers a transfer: a day to receive, three to decide. */
export const DEFAULT_DEADLINES: Deadlines = { receiptSeconds: 24 * 3600, acknowledgementSeconds: 72 * 3600, source: 'default' };

export const DEADLINE_POLICY = 'deadline-policy';

export function policyKey(ctx: Context, documentType: string, sender: string, recipient: string): string {
    return ctx.stub.createCompositeKey(DEADLINE_POLICY, [documentType, sender, recipient]);
}

/** The most specific policy wins: document type first, then sender, then recipient. */
export async function deadlinesFor(ctx: Context, documentType: DocumentType, sender: Agency, recipient: Agency): Promise<Deadlines> {
    for (const type of [documentType, ANY]) {
        for (const [from, to] of [[sender, recipient], [sender, ANY], [ANY, recipient], [ANY, ANY]] as const) {
            const policy = await readRecord<DeadlinePolicy>(ctx, policyKey(ctx, type, from, to));
            if (policy) {
                return {
                    receiptSeconds: policy.receiptSeconds,
                    acknowledgementSeconds: policy.acknowledgementSeconds,
                    source: `${type}/${from}/${to}`,
                };
            }
        }
    }
    return DEFAULT_DEADLINES;
}
