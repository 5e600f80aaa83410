import { invalidArgument } from './errors';
import { usccProblem } from './uscc';

/**
 * Reads one JSON request field by field. Each accessor names the field's path in its error
 * (`goods[1].hsCode`), and `done()` refuses members nobody asked for, so a misspelt field is an
 * error rather than silently ignored.
 */
export class Fields {
    private readonly seen = new Set<string>();

    private constructor(
        private readonly value: Record<string, unknown>,
        private readonly path: string,
    ) {}

    static parse(json: string, path = 'request'): Fields {
        if (json.length > MAX_REQUEST_LENGTH) {
            throw invalidArgument(path, `must be at most ${MAX_REQUEST_LENGTH} characters of JSON`);
        }
        let value: unknown;
        try {
            value = JSON.parse(json);
        } catch {
            throw invalidArgument(path, 'must be well-formed JSON');
        }
        return Fields.of(value, path);
    }

    static of(value: unknown, path: string): Fields {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
            throw invalidArgument(path, 'must be a JSON object');
        }
        return new Fields(value as Record<string, unknown>, path);
    }

    fieldPath(name: string): string {
        return this.path === 'request' ? name : `${this.path}.${name}`;
    }

    has(name: string): boolean {
        return this.value[name] !== undefined && this.value[name] !== null;
    }

    private raw(name: string): unknown {
        this.seen.add(name);
        return this.value[name];
    }

    private required(name: string): unknown {
        const value = this.raw(name);
        if (value === undefined || value === null) {
            throw invalidArgument(this.fieldPath(name), 'is required');
        }
        return value;
    }

    string(name: string, rule: StringRule = {}): string {
        return checkString(this.required(name), this.fieldPath(name), rule);
    }

    optionalString(name: string, rule: StringRule = {}): string | undefined {
        const value = this.raw(name);
        return value === undefined || value === null ? undefined : checkString(value, this.fieldPath(name), rule);
    }

    integer(name: string, rule: IntegerRule): number {
        return checkInteger(this.required(name), this.fieldPath(name), rule);
    }

    optionalInteger(name: string, rule: IntegerRule): number | undefined {
        const value = this.raw(name);
        return value === undefined || value === null ? undefined : checkInteger(value, this.fieldPath(name), rule);
    }

    boolean(name: string, fallback?: boolean): boolean {
        const value = this.raw(name);
        if ((value === undefined || value === null) && fallback !== undefined) {
            return fallback;
        }
        if (typeof value !== 'boolean') {
            throw invalidArgument(this.fieldPath(name), 'must be true or false');
        }
        return value;
    }

    oneOf<T extends string>(name: string, allowed: readonly T[]): T {
        const value = this.required(name);
        if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
            throw invalidArgument(this.fieldPath(name), `must be one of ${allowed.join(', ')}`);
        }
        return value as T;
    }

    optionalOneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
        return this.has(name) ? this.oneOf(name, allowed) : (this.raw(name), undefined);
    }

    uscc(name: string): string {
        const value = this.string(name, { maxLength: 18 });
        const problem = usccProblem(value);
        if (problem) {
            throw invalidArgument(this.fieldPath(name), `must be a Unified Social Credit Code: ${problem}`);
        }
        return value;
    }

    /** An ISO 8601 date-time with an explicit offset, returned normalised to UTC (`…Z`). */
    timestamp(name: string): string {
        return checkTimestamp(this.required(name), this.fieldPath(name));
    }

    hash(name: string): string {
        return this.string(name, { pattern: SHA256_HEX, patternRule: 'must be a SHA-256 digest in 64 lowercase hexadecimal characters' });
    }

    optionalHash(name: string): string | undefined {
        return this.has(name) ? this.hash(name) : (this.raw(name), undefined);
    }

    object(name: string): Fields {
        return Fields.of(this.required(name), this.fieldPath(name));
    }

    optionalObject(name: string): Fields | undefined {
        return this.has(name) ? this.object(name) : (this.raw(name), undefined);
    }

    array<T>(name: string, rule: { minItems: number; maxItems: number }, read: (item: Fields) => T): T[] {
        const value = this.required(name);
        const path = this.fieldPath(name);
        if (!Array.isArray(value)) {
            throw invalidArgument(path, 'must be an array');
        }
        if (value.length < rule.minItems || value.length > rule.maxItems) {
            throw invalidArgument(path, `must have ${rule.minItems} to ${rule.maxItems} items`);
        }
        return value.map((item, index) => {
            const fields = Fields.of(item, `${path}[${index}]`);
            const result = read(fields);
            fields.done();
            return result;
        });
    }

    /** A flat map of short names to short strings, e.g. a document's public summary. */
    stringMap(name: string, rule: { maxEntries: number; maxValueLength: number }): Record<string, string> {
        const value = this.raw(name);
        const path = this.fieldPath(name);
        if (value === undefined || value === null) {
            return {};
        }
        if (typeof value !== 'object' || Array.isArray(value)) {
            throw invalidArgument(path, 'must be a JSON object of strings');
        }
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length > rule.maxEntries) {
            throw invalidArgument(path, `must have at most ${rule.maxEntries} entries`);
        }
        const result: Record<string, string> = {};
        for (const [key, member] of entries) {
            if (!SUMMARY_KEY.test(key)) {
                throw invalidArgument(`${path}.${key}`, 'name must be a letter followed by up to 31 letters or digits');
            }
            result[key] = checkString(member, `${path}.${key}`, { maxLength: rule.maxValueLength });
        }
        return result;
    }

    /** Refuses any member of the object that no accessor read. */
    done(): void {
        for (const name of Object.keys(this.value).sort()) {
            if (!this.seen.has(name)) {
                throw invalidArgument(this.fieldPath(name), 'is not a known field');
            }
        }
    }
}

export interface StringRule {
    readonly minLength?: number;
    readonly maxLength?: number;
    readonly pattern?: RegExp;
    readonly patternRule?: string;
}

export interface IntegerRule {
    readonly min: number;
    readonly max: number;
}

export const MAX_REQUEST_LENGTH = 256 * 1024;
export const SHA256_HEX = /^[0-9a-f]{64}$/;
const SUMMARY_KEY = /^[A-Za-z][A-Za-z0-9]{0,31}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Half of a UTF-16 surrogate pair without its other half: JavaScript holds it, UTF-8 and PostgreSQL cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * The instants every reader of the ledger can hold: years 1 to 9999 in UTC, which JavaScript's
 * ISO form, PostgreSQL's timestamptz and the chaincode's own arithmetic all agree on.
 */
export const EARLIEST_TIME = '0001-01-01T00:00:00.000Z';
export const LATEST_TIME = '9999-12-31T23:59:59.999Z';
const EARLIEST = Date.parse(EARLIEST_TIME);
const LATEST = Date.parse(LATEST_TIME);

function checkString(value: unknown, path: string, rule: StringRule): string {
    if (typeof value !== 'string') {
        throw invalidArgument(path, 'must be a string');
    }
    const minLength = rule.minLength ?? 1;
    const maxLength = rule.maxLength ?? 256;
    if (value.length < minLength || value.length > maxLength) {
        throw invalidArgument(path, minLength === 1 ? `must be 1 to ${maxLength} characters` : `must be ${minLength} to ${maxLength} characters`);
    }
    if (/[\u0000-\u001f\u007f]/.test(value) && !rule.pattern) {
        throw invalidArgument(path, 'must not contain control characters');
    }
    const unstorable = unstorableText(value);
    if (unstorable) {
        throw invalidArgument(path, unstorable);
    }
    if (rule.pattern && !rule.pattern.test(value)) {
        throw invalidArgument(path, rule.patternRule ?? `must match ${rule.pattern.source}`);
    }
    return value;
}

/**
 * Why a string cannot be stored as text by every reader of the ledger (UTF-8, PostgreSQL's text
 * and jsonb), or undefined if it can: the gateway refuses the same at its edge.
 */
export function unstorableText(value: string): string | undefined {
    if (value.includes('\u0000')) {
        return 'must not contain the NUL character (U+0000)';
    }
    if (LONE_SURROGATE.test(value)) {
        return 'must be valid Unicode text (it holds an unpaired surrogate, which UTF-8 cannot carry)';
    }
    return undefined;
}

/** `value` with what `unstorableText` refuses written out as \uXXXX escapes, for logs and reports. */
export function escapeUnstorable(value: string): string {
    return value.replace(new RegExp(`\u0000|${LONE_SURROGATE.source}`, 'g'), (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The first string (or member name) in a JSON value that cannot be stored, with its path
 * (`summary.holderName`, `goods[0].unit`), or undefined when every one can.
 */
export function unstorableIn(value: unknown, path = ''): { field: string; rule: string } | undefined {
    if (typeof value === 'string') {
        const rule = unstorableText(value);
        return rule ? { field: path, rule } : undefined;
    }
    if (Array.isArray(value)) {
        for (const [index, item] of value.entries()) {
            const found = unstorableIn(item, `${path}[${index}]`);
            if (found) {
                return found;
            }
        }
    } else if (value !== null && typeof value === 'object') {
        for (const [name, member] of Object.entries(value)) {
            const memberPath = path ? `${path}.${name}` : name;
            const found = unstorableIn(name, memberPath) ?? unstorableIn(member, memberPath);
            if (found) {
                return found;
            }
        }
    }
    return undefined;
}

/** A copy of a JSON value with every string and member name passed through `escapeUnstorable`. */
export function storableCopy(value: unknown): unknown {
    if (typeof value === 'string') {
        return escapeUnstorable(value);
    }
    if (Array.isArray(value)) {
        return value.map(storableCopy);
    }
    if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([name, member]) => [escapeUnstorable(name), storableCopy(member)]));
    }
    return value;
}

function checkInteger(value: unknown, path: string, rule: IntegerRule): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw invalidArgument(path, 'must be a whole number');
    }
    if (value < rule.min || value > rule.max) {
        throw invalidArgument(path, `must be between ${rule.min} and ${rule.max}`);
    }
    return value;
}

export function checkTimestamp(value: unknown, path: string): string {
    if (typeof value !== 'string' || !TIMESTAMP.test(value)) {
        throw invalidArgument(path, 'must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T08:00:00Z');
    }
    const time = Date.parse(value);
    if (Number.isNaN(time)) {
        throw invalidArgument(path, 'must be a real calendar date-time');
    }
    const offsetMinutes = offsetOf(value);
    if (Math.abs(offsetMinutes) > 23 * 60 + 59) {
        throw invalidArgument(path, 'must have a time zone offset between -23:59 and +23:59');
    }
    const normalised = new Date(time).toISOString();
    if (time < EARLIEST || time > LATEST) {
        throw invalidArgument(path, `must lie between ${EARLIEST_TIME} and ${LATEST_TIME} (it is ${normalised} in UTC)`);
    }
    // Date.parse rolls 2026-02-30 over to March; a round trip on the date part catches it.
    const local = new Date(time + offsetMinutes * 60_000).toISOString().slice(0, 10);
    if (local !== value.slice(0, 10)) {
        throw invalidArgument(path, 'must be a real calendar date-time');
    }
    return normalised;
}

function offsetOf(value: string): number {
    const match = /([+-])(\d{2}):(\d{2})$/.exec(value);
    if (!match) {
        return 0;
    }
    const minutes = Number(match[2]) * 60 + Number(match[3]);
    return match[1] === '-' ? -minutes : minutes;
}
