import type { Context } from 'fabric-contract-api';
import { notFound } from '../common/errors';
import { readRecord } from '../common/state';
import type { Agency, ContentCollection, Direction, DocumentType } from '../common/vocabulary';

export interface GoodsLine {
    readonly hsCode: string;
    /** Licensed quantity in integer base units of `unit`. */
    readonly quantity: number;
    readonly unit: string;
    /** Quantity already drawn down by valid verifications, in the same base units. */
    readonly drawn: number;
}

export interface PermitTerms {
    readonly direction: Direction;
    readonly goods: GoodsLine[];
    /** 1 for a one-batch permit; up to 12 for a multi-use licence. */
    readonly useLimit: number;
    readonly usesCount: number;
    /** Bulk cargo may exceed each licensed quantity by up to 5 %. */
    readonly bulk: boolean;
}

export const STORED_STATUSES = ['ACTIVE', 'AMENDED', 'REVOKED', 'EXHAUSTED'] as const;
export type StoredStatus = (typeof STORED_STATUSES)[number];
/** EXPIRED is never written: a document expires when the transaction time passes `validTo`. */
export type DocumentStatus = StoredStatus | 'EXPIRED';

export interface DocumentRecord {
    readonly type: DocumentType;
    readonly number: string;
    readonly version: number;
    readonly issuer: Agency;
    readonly holder: string;
    readonly status: DocumentStatus;
    readonly validFrom: string;
    readonly validTo: string;
    readonly summary: Record<string, string>;
    readonly contentHash: string;
    readonly collection: ContentCollection;
    readonly permit?: PermitTerms;
    readonly issuedAt: string;
    readonly updatedAt: string;
    readonly transactionId: string;
    readonly revocation?: { readonly reason: string; readonly at: string };
}

export interface DocumentHead {
    readonly version: number;
}

export const DOCUMENT = 'document';
export const DOCUMENT_HEAD = 'document-head';
export const DOCUMENT_CONTENT = 'document-content';
export const DOCUMENTS_BY_HOLDER = 'document~holder';
export const DOCUMENTS_BY_ISSUER = 'document~issuer';

export function versionKeyPart(version: number): string {
    return String(version).padStart(4, '0');
}

export function documentKey(ctx: Context, type: string, number: string, version: number): string {
    return ctx.stub.createCompositeKey(DOCUMENT, [type, number, versionKeyPart(version)]);
}

export function headKey(ctx: Context, type: string, number: string): string {
    return ctx.stub.createCompositeKey(DOCUMENT_HEAD, [type, number]);
}

export function contentKey(ctx: Context, type: string, number: string, version: number): string {
    return ctx.stub.createCompositeKey(DOCUMENT_CONTENT, [type, number, versionKeyPart(version)]);
}

/** The current version of a document, or undefined when it was never issued. */
export async function findDocument(ctx: Context, type: string, number: string): Promise<DocumentRecord | undefined> {
    const head = await readRecord<DocumentHead>(ctx, headKey(ctx, type, number));
    return head ? readRecord<DocumentRecord>(ctx, documentKey(ctx, type, number, head.version)) : undefined;
}

export async function getDocument(ctx: Context, type: string, number: string, version?: number): Promise<DocumentRecord> {
    const record = version === undefined
        ? await findDocument(ctx, type, number)
        : await readRecord<DocumentRecord>(ctx, documentKey(ctx, type, number, version));
    if (!record) {
        throw notFound('document', version === undefined
            ? `${type} ${number} is not on the ledger`
            : `${type} ${number} has no version ${version}`);
    }
    return record;
}

/** The status a reader sees at `time`: active and exhausted documents expire after `validTo`. */
export function effectiveStatus(record: DocumentRecord, time: string): DocumentStatus {
    if ((record.status === 'ACTIVE' || record.status === 'EXHAUSTED') && time > record.validTo) {
        return 'EXPIRED';
    }
    return record.status;
}

export function asSeenAt(record: DocumentRecord, time: string): DocumentRecord {
    return { ...record, status: effectiveStatus(record, time) };
}

/** A permit is exhausted when every use is spent or every goods line is fully drawn. */
export function isExhausted(permit: PermitTerms): boolean {
    return permit.usesCount >= permit.useLimit || permit.goods.every((line) => line.drawn >= line.quantity);
}
