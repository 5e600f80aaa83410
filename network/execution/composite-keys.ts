/** Fabric's composite key encoding: U+0000, the object type, then each attribute, each ended by U+0000. */
export const COMPOSITE_KEY_NAMESPACE = '\u0000';
export const MIN_UNICODE_RUNE = '\u0000';
export const MAX_UNICODE_RUNE = '\u{10FFFF}';
/** fabric-shim replaces an empty start key of a simple-key range with this. */
export const EMPTY_KEY_SUBSTITUTE = '\u0001';

export function createCompositeKey(objectType: string, attributes: readonly string[]): string {
    checkPart(objectType);
    let key = COMPOSITE_KEY_NAMESPACE + objectType + MIN_UNICODE_RUNE;
    for (const attribute of attributes) {
        checkPart(attribute);
        key += attribute + MIN_UNICODE_RUNE;
    }
    return key;
}

export function splitCompositeKey(compositeKey: string): { objectType: string; attributes: string[] } {
    if (!compositeKey.startsWith(COMPOSITE_KEY_NAMESPACE)) {
        return { objectType: '', attributes: [] };
    }
    const parts = compositeKey.slice(1).split(MIN_UNICODE_RUNE);
    parts.pop(); // the trailing separator leaves an empty last part
    const [objectType = '', ...attributes] = parts;
    return { objectType, attributes };
}

function checkPart(part: string): void {
    if (part.includes(MIN_UNICODE_RUNE) || part.includes(MAX_UNICODE_RUNE)) {
        throw new Error(`composite key part "${part.replace(/\u0000/g, '\\u0000')}" contains U+0000 or U+10FFFF, which are reserved`);
    }
}

/** Utf-8 byte order, which is Fabric's key order and the order of bytea in PostgreSQL. */
export function compareKeys(left: string, right: string): number {
    return Buffer.compare(Buffer.from(left, 'utf8'), Buffer.from(right, 'utf8'));
}
