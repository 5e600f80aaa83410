import { ChaincodeError, checkTimestamp, unstorableText } from '@counterfoil/chaincode';
import { Problem } from '../http/problem';

/** What each part of a listing's sort key is: plain text, or an instant. */
export type CursorPart = 'text' | 'time';

/** Keyset pagination: the cursor is the sort key of the last row returned, opaque to clients. */
export function encodeCursor(key: readonly string[]): string {
    return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * The sort key a cursor holds, checked part by part against the listing's key, so that a cursor
 * a client made up or altered is refused here, never handed to the database to choke on.
 */
export function decodeCursor(cursor: string | undefined, shape: readonly CursorPart[]): string[] | undefined {
    if (!cursor) {
        return undefined;
    }
    let key: unknown;
    try {
        key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
        key = undefined;
    }
    if (!Array.isArray(key) || key.length !== shape.length) {
        throw refused();
    }
    return shape.map((kind, index) => {
        const part: unknown = key[index];
        if (typeof part !== 'string' || part.length === 0 || part.length > 256 || unstorableText(part) !== undefined) {
            throw refused();
        }
        if (kind === 'time') {
            try {
                return checkTimestamp(part, 'cursor');
            } catch (error) {
                throw error instanceof ChaincodeError ? refused() : error;
            }
        }
        return part;
    });
}

function refused(): Problem {
    return new Problem('INVALID_ARGUMENT', 'cursor is not one this listing returned', 'cursor');
}

export function pageLimit(raw: string | undefined): number {
    return raw === undefined ? 50 : Number(raw);
}
