import { Problem } from '../http/problem';

/** Keyset pagination: the cursor is the sort key of the last row returned, opaque to clients. */
export function encodeCursor(key: readonly string[]): string {
    return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, length: number): string[] | undefined {
    if (!cursor) {
        return undefined;
    }
    try {
        const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
        if (Array.isArray(key) && key.length === length && key.every((part) => typeof part === 'string')) {
            return key as string[];
        }
    } catch {
        // fall through to the refusal
    }
    throw new Problem('INVALID_ARGUMENT', 'cursor is not one this listing returned', 'cursor');
}

export function pageLimit(raw: string | undefined): number {
    return raw === undefined ? 50 : Number(raw);
}
