import { canonicalJson, DOCUMENT_TYPES, PERMIT_TYPES, unstorableText } from '@counterfoil/chaincode';
import type { Column } from '../exports/tables';
import { SheetError, type SheetValue } from './sheets';

/**
 * What an import file holds: one row per goods line of a licence or certificate (one row for a
 * document without goods). A document's rows follow one another and repeat its own values or
 * leave them blank; `summary.<name>` columns go onto the ledger's counterfoil, `content.<name>`
 * columns into the confidential content only its collection's members read.
 */
export const DOCUMENT_FIELDS = ['type', 'number', 'holder', 'validFrom', 'validTo', 'direction', 'useLimit', 'bulk'] as const;
export const LINE_FIELDS = ['hsCode', 'quantity', 'unit'] as const;
type DocumentField = (typeof DOCUMENT_FIELDS)[number];
type LineField = (typeof LINE_FIELDS)[number];
const REQUIRED: readonly DocumentField[] = ['type', 'number', 'holder', 'validFrom', 'validTo'];

/** The headings an import reads, in both languages (an English heading in any case). */
export const IMPORT_COLUMNS: Readonly<Record<DocumentField | LineField, Column>> = {
    type: { en: 'type', zh: '单证类型' },
    number: { en: 'number', zh: '编号' },
    holder: { en: 'holder', zh: '持有企业' },
    validFrom: { en: 'validFrom', zh: '生效时间' },
    validTo: { en: 'validTo', zh: '失效时间' },
    direction: { en: 'direction', zh: '进出口方向' },
    useLimit: { en: 'useLimit', zh: '使用次数上限' },
    bulk: { en: 'bulk', zh: '散装' },
    hsCode: { en: 'hsCode', zh: '商品编码' },
    quantity: { en: 'quantity', zh: '数量' },
    unit: { en: 'unit', zh: '单位' },
};
const PREFIXES = { summary: ['summary', '摘要'], content: ['content', '内容'] } as const;
const MEMBER_NAME = /^[A-Za-z][A-Za-z0-9]{0,31}$/;
/** A document's text-valued cells hold at most this much (the chaincode's own limits are lower). */
const MAX_CELL = 1000;

type Slot =
    | { readonly kind: 'document'; readonly field: DocumentField }
    | { readonly kind: 'line'; readonly field: LineField }
    | { readonly kind: 'summary' | 'content'; readonly field: string };

/** A column's name as a problem reports it: the file's own heading. */
export interface ImportProblem {
    readonly row: number;
    readonly column: string;
    readonly rule: string;
}

/** A document read from the file: what its rows make, or why they make nothing. */
export interface ImportedDocument {
    /** The sheet rows it was read from, the goods lines' in order. */
    readonly rows: readonly number[];
    readonly type?: string;
    readonly number?: string;
    /** The Issue request, when every cell could be read. */
    readonly request?: Record<string, unknown>;
    /** The confidential content: the document as imported, as canonical JSON. */
    readonly content?: string;
    readonly problems: readonly ImportProblem[];
}

function columnLetter(index: number): string {
    let letters = '';
    for (let rest = index + 1; rest > 0; rest = Math.floor((rest - 1) / 26)) {
        letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
    }
    return letters;
}

/** Where each column's cells go, from the heading row; a heading nothing reads stops the import. */
export class ImportLayout {
    private constructor(readonly headings: readonly string[], private readonly slots: readonly Slot[]) {}

    static read(cells: readonly SheetValue[]): ImportLayout {
        const headings = cells.map((cell) => (cell === null ? '' : String(cell).trim()));
        const slots = headings.map((heading, index): Slot => {
            const where = `column ${columnLetter(index)} ("${heading}")`;
            if (heading === '') {
                throw new SheetError(`column ${columnLetter(index)} has no heading`, 1);
            }
            const named = Object.entries(IMPORT_COLUMNS).find(([, column]) => column.en.toLowerCase() === heading.toLowerCase() || column.zh === heading);
            if (named) {
                const field = named[0] as DocumentField | LineField;
                return (LINE_FIELDS as readonly string[]).includes(field) ? { kind: 'line', field: field as LineField } : { kind: 'document', field: field as DocumentField };
            }
            const dot = heading.indexOf('.');
            const prefix = heading.slice(0, dot);
            const kind = (Object.keys(PREFIXES) as ('summary' | 'content')[]).find((name) => (PREFIXES[name] as readonly string[]).some((word) => word.toLowerCase() === prefix.toLowerCase()));
            if (dot > 0 && kind) {
                const member = heading.slice(dot + 1);
                if (!MEMBER_NAME.test(member)) {
                    throw new SheetError(`${where}: the name after "${prefix}." must be a letter followed by up to 31 letters or digits`, 1);
                }
                return { kind, field: member };
            }
            throw new SheetError(`${where} is not a column of a document import: the columns are ${Object.values(IMPORT_COLUMNS).map((column) => column.en).join(', ')}, summary.<name> and content.<name>`, 1);
        });
        const keys = slots.map((slot) => `${slot.kind}.${slot.field}`);
        keys.forEach((key, index) => {
            const first = keys.indexOf(key);
            if (first !== index) {
                throw new SheetError(`column ${columnLetter(index)} ("${headings[index] ?? ''}") repeats column ${columnLetter(first)}`, 1);
            }
        });
        for (const field of REQUIRED) {
            if (!keys.includes(`document.${field}`)) {
                throw new SheetError(`the heading row has no ${field} column (${IMPORT_COLUMNS[field].zh}); every import needs ${REQUIRED.join(', ')}`, 1);
            }
        }
        return new ImportLayout(headings, slots);
    }

    /** The heading of the column that holds a field, for problems. */
    headingOf(kind: Slot['kind'], field: string): string {
        const index = this.slots.findIndex((slot) => slot.kind === kind && slot.field === field);
        return index < 0 ? (kind === 'document' || kind === 'line' ? field : `${kind}.${field}`) : this.headings[index] as string;
    }

    slotsOf(): readonly Slot[] {
        return this.slots;
    }
}

/** How date-only and zone-less cells are read: in the import's time zone, a validTo date to the day's end. */
export interface ReadOptions {
    /** ±hh:mm, e.g. +08:00. */
    readonly zone: string;
}

const DATE_ONLY = /^(\d{4}-\d{2}-\d{2})$/;
const ZONELESS = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d{1,9})?)?$/;

function instantText(value: SheetValue, field: 'validFrom' | 'validTo', zone: string): string {
    if (value instanceof Date) {
        // A workbook's dates carry no zone: exceljs reads the serial as UTC, so its UTC fields are the wall time.
        const wall = value.toISOString().slice(0, 19);
        return wall.endsWith('T00:00:00') ? instantText(wall.slice(0, 10), field, zone) : `${wall}${zone}`;
    }
    const text = String(value).trim();
    const date = DATE_ONLY.exec(text);
    if (date) {
        return `${date[1] as string}T${field === 'validTo' ? '23:59:59' : '00:00:00'}${zone}`;
    }
    const zoneless = ZONELESS.exec(text);
    if (zoneless) {
        return `${zoneless[1] as string}T${zoneless[2] as string}${zoneless[3] ?? ':00'}${zone}`;
    }
    return text;
}

const TRUE = new Set(['true', 'yes', 'y', '1', '是']);
const FALSE = new Set(['false', 'no', 'n', '0', '否']);

/** One cell read for its field, or the rule it breaks. */
function readCell(slot: Slot, value: SheetValue, options: ReadOptions): { value: unknown } | { rule: string } {
    // Summary and content members are text, whatever they are named: only the document's and the goods line's own fields are typed.
    const field = slot.kind === 'document' || slot.kind === 'line' ? slot.field : undefined;
    if (field === 'validFrom' || field === 'validTo') {
        return { value: instantText(value, field, options.zone) };
    }
    if (field === 'quantity' || field === 'useLimit') {
        const number = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value)) ? Number(value) : Number.NaN;
        return Number.isSafeInteger(number) ? { value: number } : { rule: 'must be a whole number' };
    }
    if (field === 'bulk') {
        const word = String(value).trim().toLowerCase();
        return typeof value === 'boolean' ? { value } : TRUE.has(word) ? { value: true } : FALSE.has(word) ? { value: false } : { rule: 'must be true or false (是 or 否)' };
    }
    const text = value instanceof Date ? value.toISOString() : String(value).trim();
    const unstorable = unstorableText(text);
    if (unstorable) {
        return { rule: unstorable };
    }
    if (text.length > MAX_CELL) {
        return { rule: `must be at most ${MAX_CELL} characters` };
    }
    return { value: field === 'type' || field === 'direction' || field === 'unit' ? text.toUpperCase() : text };
}

const isEmpty = (value: SheetValue | undefined): boolean => value === null || value === undefined || (typeof value === 'string' && value.trim() === '');

/**
 * Gathers rows into documents as they come: a row whose type and number differ from the row
 * before it starts the next document. Every problem a row has is reported, not only the first.
 */
export class DocumentAssembler {
    private current?: { type: string; number: string; firstRow: number; values: Map<string, unknown>; lines: Record<string, unknown>[]; rows: number[]; problems: ImportProblem[] };

    constructor(private readonly layout: ImportLayout, private readonly options: ReadOptions) {}

    /** Reads a row; answers the document it completed, if it started another. */
    add(row: number, cells: readonly SheetValue[]): ImportedDocument[] {
        const done: ImportedDocument[] = [];
        const problems: ImportProblem[] = [];
        const values = new Map<string, unknown>();
        const line: Record<string, unknown> = {};
        const slots = this.layout.slotsOf();
        if (cells.length > slots.length && cells.slice(slots.length).some((cell) => !isEmpty(cell))) {
            problems.push({ row, column: columnLetter(slots.length), rule: 'has a value but no heading' });
        }
        slots.forEach((slot, index) => {
            const value = cells[index];
            if (isEmpty(value)) {
                return;
            }
            const read = readCell(slot, value as SheetValue, this.options);
            if ('rule' in read) {
                problems.push({ row, column: this.layout.headings[index] as string, rule: read.rule });
            } else if (slot.kind === 'line') {
                line[slot.field] = read.value;
            } else {
                values.set(`${slot.kind}.${slot.field}`, read.value);
            }
        });
        const type = values.get('document.type') as string | undefined;
        const number = values.get('document.number') as string | undefined;
        const current = this.current;
        // A row that leaves type and number blank goes on with the document above it.
        const continues = current !== undefined && (type === undefined || type === current.type) && (number === undefined || number === current.number);
        if (current && continues) {
            for (const [key, value] of values) {
                const first = current.values.get(key);
                if (first === undefined) {
                    current.values.set(key, value);
                } else if (canonicalJson(first) !== canonicalJson(value)) {
                    const [kind, field] = key.split(/\.(.*)/s) as [Slot['kind'], string];
                    problems.push({ row, column: this.layout.headingOf(kind, field), rule: `differs from row ${current.firstRow}, the document's first row: a document's rows repeat its values or leave them blank` });
                }
            }
            current.lines.push(line);
            current.rows.push(row);
            current.problems.push(...problems);
            return done;
        }
        if (current) {
            done.push(this.finish(current));
        }
        if (type === undefined) {
            problems.push({ row, column: this.layout.headingOf('document', 'type'), rule: 'is required on a document\'s first row' });
        }
        if (number === undefined) {
            problems.push({ row, column: this.layout.headingOf('document', 'number'), rule: 'is required on a document\'s first row' });
        }
        this.current = { type: type ?? '', number: number ?? '', firstRow: row, values, lines: [line], rows: [row], problems };
        return done;
    }

    /** The last document, once the file has ended. */
    end(): ImportedDocument[] {
        const current = this.current;
        this.current = undefined;
        return current ? [this.finish(current)] : [];
    }

    private finish(document: NonNullable<DocumentAssembler['current']>): ImportedDocument {
        const { values, lines, rows, problems } = document;
        const base = { rows, type: document.type || undefined, number: document.number || undefined };
        if (problems.length > 0) {
            return { ...base, problems };
        }
        const members = (kind: 'summary' | 'content'): Record<string, unknown> | undefined => {
            const entries = [...values].filter(([key]) => key.startsWith(`${kind}.`)).map(([key, value]) => [key.slice(kind.length + 1), value]);
            return entries.length > 0 ? Object.fromEntries(entries) : undefined;
        };
        const value = (field: DocumentField): unknown => values.get(`document.${field}`);
        const goods = lines.filter((line) => Object.keys(line).length > 0);
        const permitGiven = goods.length > 0 || ['direction', 'useLimit', 'bulk'].some((field) => value(field as DocumentField) !== undefined);
        const isPermit = (PERMIT_TYPES as readonly string[]).includes(document.type);
        const request: Record<string, unknown> = {
            type: document.type, number: document.number, holder: value('holder'), validFrom: value('validFrom'), validTo: value('validTo'),
            ...(members('summary') ? { summary: members('summary') } : {}),
            ...(isPermit || permitGiven ? {
                permit: {
                    direction: value('direction'), goods: isPermit ? lines : goods, useLimit: value('useLimit'),
                    ...(value('bulk') === undefined ? {} : { bulk: value('bulk') }),
                },
            } : {}),
        };
        const content = canonicalJson({ document: request, ...(members('content') ? { content: members('content') } : {}) });
        return { ...base, request, content, problems };
    }
}

/** Whether a type names a document an import can issue. */
export function isDocumentType(type: string | undefined): boolean {
    return type !== undefined && (DOCUMENT_TYPES as readonly string[]).includes(type);
}

/**
 * The column and row a chaincode field names, for a document read from `rows`: goods lines are
 * the document's rows in order.
 */
export function locate(field: string | undefined, rows: readonly number[], layout: Pick<ImportLayout, 'headingOf'>): { row: number; column: string } {
    const first = rows[0] as number;
    const line = /^permit\.goods\[(\d+)\](?:\.(\w+))?/.exec(field ?? '');
    if (line) {
        return { row: rows[Number(line[1])] ?? first, column: layout.headingOf('line', line[2] ?? 'hsCode') };
    }
    const member = /^(summary|content)\.(\w+)$/.exec(field ?? '');
    if (member) {
        return { row: first, column: layout.headingOf(member[1] as 'summary' | 'content', member[2] as string) };
    }
    const named: Record<string, [Slot['kind'], string]> = {
        caller: ['document', 'type'], permit: ['document', 'direction'], 'permit.goods': ['line', 'hsCode'], 'transient.content': ['content', ''],
    };
    const [kind, name] = named[field ?? ''] ?? (field?.startsWith('permit.') ? ['document', field.slice('permit.'.length)] : ['document', field ?? 'number']);
    return { row: first, column: name === '' ? 'content' : layout.headingOf(kind, name) };
}
