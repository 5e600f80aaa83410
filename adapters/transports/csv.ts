import { CsvTokenizer, SheetError } from '../../gateway/imports/sheets';

/** Characters tokenised between two yields to the event loop: a large file never holds it for long. */
const CHARACTERS_PER_TURN = 256 * 1024;

/**
 * Member names a record built from a header must never use: they would reach Object.prototype
 * (`__proto__.x`) or shadow what every object inherits.
 */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * RFC 4180 CSV with a header row; dotted headers make nested objects (`document.type`), `size` is
 * a number. Yields to the event loop as it goes.
 */
export async function parseCsv(text: string): Promise<Record<string, unknown>[]> {
    const [header, ...records] = (await csvRows(text)).filter((line) => line.some((cell) => cell !== ''));
    if (!header) {
        return [];
    }
    const paths = header.map((name, column) => {
        const path = name.trim().split('.');
        if (path.some((part) => part === '' || FORBIDDEN_NAMES.has(part))) {
            throw new Error(`CSV header "${name}" (column ${column + 1}) is not a field name: names are dotted words, none of __proto__, prototype or constructor`);
        }
        return path;
    });
    return records.map((cells, line) => {
        if (cells.length !== header.length) {
            throw new Error(`CSV line ${line + 2} has ${cells.length} fields, the header ${header.length}`);
        }
        const record: Record<string, unknown> = {};
        paths.forEach((path, column) => {
            const value = cells[column] as string;
            if (value === '') {
                return;
            }
            let target = record;
            for (const part of path.slice(0, -1)) {
                const next = Object.hasOwn(target, part) ? target[part] : (target[part] = {});
                if (typeof next !== 'object' || next === null) {
                    throw new Error(`CSV header "${header[column] ?? ''}" nests under ${part}, which another column gives a value`);
                }
                target = next as Record<string, unknown>;
            }
            const last = path.at(-1) as string;
            target[last] = last === 'size' ? Number(value) : value;
        });
        return record;
    });
}

/** RFC 4180 CSV as rows of fields (quoted fields may hold separators, quotes and line breaks). */
export async function csvRows(text: string): Promise<string[][]> {
    const tokenizer = new CsvTokenizer();
    const rows: string[][] = [];
    for (let start = 0; start < text.length; start += CHARACTERS_PER_TURN) {
        if (start > 0) {
            await new Promise((resolve) => setImmediate(resolve));
        }
        for (const row of tokenizer.push(text.slice(start, start + CHARACTERS_PER_TURN))) {
            rows.push(row);
        }
    }
    try {
        rows.push(...tokenizer.end());
    } catch (error) {
        throw error instanceof SheetError ? new Error(error.message) : error;
    }
    return rows;
}
