import type { Context } from 'fabric-contract-api';
import { conflict } from '../common/errors';
import type { Fields } from '../common/fields';
import { readRecord, sameContent } from '../common/state';

/** What a thread's message carries of each attachment onto the ledger: its digest, size and kind. The file stays with the parties. */
export interface AttachmentDigest {
    readonly sha256: string;
    readonly size: number;
    readonly mediaType: AttachmentType;
}

/** Scanned documents, PDFs and images: the kinds a thread's attachments may be. */
export const ATTACHMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/tiff', 'image/gif', 'image/webp'] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];
export const MAX_ATTACHMENTS = 10;
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

/** A message's attachments, when it has any (`attachments` may be left out). */
export function readAttachments(fields: Fields): AttachmentDigest[] | undefined {
    if (!fields.has('attachments')) {
        fields.optionalObject('attachments');
        return undefined;
    }
    const attachments = fields.array('attachments', { minItems: 1, maxItems: MAX_ATTACHMENTS }, (item) => ({
        sha256: item.hash('sha256'),
        size: item.integer('size', { min: 1, max: MAX_ATTACHMENT_BYTES }),
        mediaType: item.oneOf('mediaType', ATTACHMENT_TYPES),
    }));
    return attachments;
}

/** What a message of a thread (a case's, a document's) says on the ledger, whoever wrote it. */
export interface MessageDigests {
    readonly author: string;
    readonly messageHash: string;
    readonly attachments?: AttachmentDigest[];
}

/**
 * Where a new message goes in a thread of `count` messages: undefined when `sequence` is the
 * next, the stored message when this same message was written there before (a retry), and a
 * CONFLICT naming the next sequence otherwise.
 */
export async function placeMessage<T extends MessageDigests>(ctx: Context, key: string, sequence: number, count: number, message: MessageDigests, thread: string): Promise<T | undefined> {
    if (sequence <= count) {
        const existing = await readRecord<T>(ctx, key);
        const digests = (record: MessageDigests): MessageDigests => ({ author: record.author, messageHash: record.messageHash, attachments: record.attachments });
        if (existing && sameContent(digests(existing), digests(message))) {
            return existing;
        }
        throw conflict('sequence', `message ${sequence} of ${thread} already exists; the next is ${count + 1}`);
    }
    if (sequence !== count + 1) {
        throw conflict('sequence', `the next message of ${thread} is ${count + 1}`);
    }
    return undefined;
}
