import type { Context } from 'fabric-contract-api';
import { canonicalBytes, canonicalJson, parseJson } from './canonical';
import { invalidArgument } from './errors';
import type { Fields } from './fields';

/** One page of a listing, with the bookmark that fetches the next one ('' when there is none). */
export interface Page<T> {
    readonly records: T[];
    readonly bookmark: string;
}

export interface PageRequest {
    readonly pageSize: number;
    readonly bookmark: string;
}

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** Index entries carry no data; Fabric treats an empty value as a delete, so they hold one byte. */
const INDEX_VALUE = Uint8Array.of(0);

export async function readRecord<T>(ctx: Context, key: string): Promise<T | undefined> {
    const bytes = await ctx.stub.getState(key);
    return bytes && bytes.length > 0 ? parseJson<T>(bytes) : undefined;
}

export async function writeRecord(ctx: Context, key: string, record: unknown): Promise<void> {
    await ctx.stub.putState(key, canonicalBytes(record));
}

export function sameContent(left: unknown, right: unknown): boolean {
    return canonicalJson(left) === canonicalJson(right);
}

export async function writeIndex(ctx: Context, index: string, attributes: string[]): Promise<void> {
    await ctx.stub.putState(ctx.stub.createCompositeKey(index, attributes), INDEX_VALUE);
}

export async function deleteIndex(ctx: Context, index: string, attributes: string[]): Promise<void> {
    await ctx.stub.deleteState(ctx.stub.createCompositeKey(index, attributes));
}

/**
 * Reads one page of an index (a partial composite key) and resolves each entry to a record.
 * Paginated queries are for read-only transactions, as on Fabric.
 */
export async function pageOfIndex<T>(
    ctx: Context,
    index: string,
    prefix: string[],
    page: PageRequest,
    resolve: (attributes: string[]) => Promise<T | undefined>,
): Promise<Page<T>> {
    const start = fromBookmark(page.bookmark);
    if (start && !start.startsWith(ctx.stub.createCompositeKey(index, prefix))) {
        throw invalidArgument('bookmark', 'belongs to another listing');
    }
    const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(index, prefix, page.pageSize, start);
    const entries: string[][] = [];
    try {
        for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
            entries.push(ctx.stub.splitCompositeKey(result.value.key).attributes);
        }
    } finally {
        await iterator.close();
    }
    const records: T[] = [];
    for (const attributes of entries) {
        const record = await resolve(attributes);
        if (record !== undefined) {
            records.push(record);
        }
    }
    // A short page means the index is exhausted, whatever bookmark the ledger returned.
    const bookmark = metadata.fetchedRecordsCount < page.pageSize ? '' : toBookmark(metadata.bookmark);
    return { records, bookmark };
}

export function readPageRequest(fields: Fields): PageRequest {
    const pageSize = fields.optionalInteger('pageSize', { min: 1, max: MAX_PAGE_SIZE }) ?? DEFAULT_PAGE_SIZE;
    const bookmark = fields.optionalString('bookmark', {
        minLength: 0, maxLength: 2048, pattern: /^[A-Za-z0-9_-]*$/, patternRule: 'must be a bookmark returned by a previous page',
    }) ?? '';
    return { pageSize, bookmark };
}

/** Bookmarks are ledger keys, which contain U+0000; clients get them as opaque base64url tokens. */
function toBookmark(key: string): string {
    return key ? Buffer.from(key, 'utf8').toString('base64url') : '';
}

function fromBookmark(bookmark: string): string {
    return bookmark ? Buffer.from(bookmark, 'base64url').toString('utf8') : '';
}

export function transactionTime(ctx: Context): string {
    return ctx.stub.getDateTimestamp().toISOString();
}

export function addSeconds(isoTime: string, seconds: number): string {
    const time = Date.parse(isoTime);
    if (Number.isNaN(time)) {
        throw invalidArgument('time', `"${isoTime}" is not a date-time`);
    }
    return new Date(time + seconds * 1000).toISOString();
}
