import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import * as ExcelJS from 'exceljs';

/** A cell as a sheet gives it: text, a number, a truth value, a date (workbooks only), or empty. */
export type SheetValue = string | number | boolean | Date | null;

/** One row of a sheet, numbered as a spreadsheet shows it (the heading row is 1). */
export interface SheetRow {
    readonly row: number;
    readonly cells: readonly SheetValue[];
}

/** A file that cannot be read as a table at all; `row` when the fault is in one place. */
export class SheetError extends Error {
    constructor(message: string, readonly row?: number) {
        super(message);
        this.name = 'SheetError';
    }
}

/** The longest text one field may hold: no cell of an import comes near it, and no file grows a field without bound. */
export const MAX_FIELD_CHARACTERS = 10_000;

/**
 * RFC 4180 CSV read as it arrives: text goes in in pieces of any size (a quote pair or a CRLF may
 * be cut between two), whole rows come out. A quote opens a quoted field only at a field's start,
 * as spreadsheets read it.
 */
export class CsvTokenizer {
    private row: string[] = [];
    private field = '';
    /** start: nothing read of the field; plain: unquoted text; quoted: inside quotes; closing: a quote seen inside quotes. */
    private state: 'start' | 'plain' | 'quoted' | 'closing' = 'start';
    private afterCarriageReturn = false;

    constructor(private readonly maxField = Number.POSITIVE_INFINITY) {}

    /** Reads the next piece of text; answers the rows it completed. */
    push(text: string): string[][] {
        const rows: string[][] = [];
        for (let index = 0; index < text.length; index++) {
            const character = text[index] as string;
            if (this.afterCarriageReturn) {
                this.afterCarriageReturn = false;
                if (character === '\n') {
                    continue;
                }
            }
            if (this.state === 'quoted') {
                if (character === '"') {
                    this.state = 'closing';
                } else {
                    this.append(character);
                }
                continue;
            }
            if (this.state === 'closing') {
                if (character === '"') {
                    this.append('"');
                    this.state = 'quoted';
                    continue;
                }
                this.state = 'plain';
            }
            if (character === '"' && this.state === 'start') {
                this.state = 'quoted';
            } else if (character === ',') {
                this.endField();
            } else if (character === '\n' || character === '\r') {
                this.endField();
                rows.push(this.row);
                this.row = [];
                this.afterCarriageReturn = character === '\r';
            } else {
                this.append(character);
                this.state = 'plain';
            }
        }
        return rows;
    }

    /** Ends the text: answers the last row when it had no line break after it. */
    end(): string[][] {
        if (this.state === 'quoted') {
            throw new SheetError('a quoted CSV field is not closed');
        }
        if (this.field === '' && this.row.length === 0 && this.state === 'start') {
            return [];
        }
        this.endField();
        const last = this.row;
        this.row = [];
        return [last];
    }

    private append(text: string): void {
        if (this.field.length >= this.maxField) {
            throw new SheetError(`a CSV field is longer than ${this.maxField} characters`);
        }
        this.field += text;
    }

    private endField(): void {
        this.row.push(this.field);
        this.field = '';
        this.state = 'start';
    }
}

/** The character sets a CSV upload may declare: UTF-8 (the default), or GB 18030, which Excel on a Chinese Windows saves. */
export const CSV_CHARSETS = ['utf-8', 'gb18030', 'gbk'] as const;

const isBlank = (cells: readonly SheetValue[]): boolean => cells.every((cell) => cell === null || cell === '');

/** The rows of a CSV file, read a piece at a time; blank rows are left out (but counted). */
export async function* csvSheet(path: string, charset: (typeof CSV_CHARSETS)[number] = 'utf-8'): AsyncGenerator<SheetRow> {
    const decoder = new TextDecoder(charset, { fatal: true });
    const tokenizer = new CsvTokenizer(MAX_FIELD_CHARACTERS);
    let row = 0;
    let offset = 0;
    const rows = function* (completed: string[][]): Generator<SheetRow> {
        for (const cells of completed) {
            row++;
            if (!isBlank(cells)) {
                yield { row, cells };
            }
        }
    };
    /** Text that does not decode: the rows before the first bad bytes are counted, so that the fault names its row. */
    const undecodable = (chunk: Buffer | undefined): SheetError => {
        const readable = chunk ? new TextDecoder(charset).decode(chunk) : '';
        const before = readable.slice(0, Math.max(0, readable.indexOf('\uFFFD')));
        try {
            for (const _row of rows(tokenizer.push(before))) { /* counted */ }
        } catch {
            // the rows before the fault are counted as far as they can be
        }
        return new SheetError(`the file is not ${charset.toUpperCase()} text (bytes near offset ${offset + Buffer.byteLength(before)} are not): save it as CSV UTF-8, or name its character set`, row + 1);
    };
    const decode = (chunk?: Buffer): string => {
        try {
            return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
        } catch {
            throw undecodable(chunk);
        }
    };
    for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
        const text = decode(chunk as Buffer);
        offset += (chunk as Buffer).length;
        try {
            yield* rows(tokenizer.push(text));
        } catch (error) {
            throw error instanceof SheetError ? new SheetError(error.message, row + 1) : error;
        }
    }
    const rest = decode();
    yield* rows([...tokenizer.push(rest), ...tokenizer.end()]);
}

/** What an exceljs cell value is, reduced to a sheet value: rich text joined, a formula's last result. */
function cellValue(value: ExcelJS.CellValue | undefined): SheetValue {
    if (value === null || value === undefined) {
        return null;
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) {
        return value;
    }
    if ('richText' in value) {
        return value.richText.map((run) => run.text).join('');
    }
    if ('hyperlink' in value) {
        return typeof value.text === 'string' ? value.text : cellValue(value.text);
    }
    if ('result' in value) {
        return cellValue(value.result as ExcelJS.CellValue);
    }
    if ('error' in value) {
        return String(value.error);
    }
    return null;
}

/**
 * The rows of a workbook's first worksheet, read from the file as a stream (exceljs's streaming
 * reader): dates come back as dates, formulas as their last results.
 */
export async function* xlsxSheet(path: string): AsyncGenerator<SheetRow> {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
    const model = (): { sheets?: { name: string }[] } | undefined => (reader as unknown as { model?: { sheets?: { name: string }[] } }).model;
    let read = false;
    try {
        for await (const worksheet of reader) {
            const first = model()?.sheets?.[0]?.name;
            if (read || (first !== undefined && (worksheet as unknown as { name: string }).name !== first)) {
                continue; // the other worksheets are drained unread
            }
            read = true;
            for await (const row of worksheet as AsyncIterable<ExcelJS.Row>) {
                const cells = (row.values as ExcelJS.CellValue[]).slice(1).map(cellValue);
                for (const cell of cells) {
                    if (typeof cell === 'string' && cell.length > MAX_FIELD_CHARACTERS) {
                        throw new SheetError(`a cell is longer than ${MAX_FIELD_CHARACTERS} characters`, row.number);
                    }
                }
                if (!isBlank(cells)) {
                    yield { row: row.number, cells };
                }
            }
        }
    } catch (error) {
        throw error instanceof SheetError ? error : new SheetError(`the file is not a workbook Excel can open (${(error as Error).message})`);
    }
    if (!read) {
        throw new SheetError('the workbook has no worksheet');
    }
}

/** What a workbook's archive may unpack to, and how far one part may expand. */
export interface ArchiveLimits {
    readonly maxUnpackedBytes: number;
    /** The largest ratio of a part's unpacked to packed size (a deflate bomb expands a thousandfold). */
    readonly maxRatio: number;
}

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;

/**
 * Reads a workbook's zip directory before anything is unpacked, and refuses an archive that
 * would unpack to more than the limits allow: the reader streams, but a worksheet or string
 * table that expands a thousandfold would still hold the process for as long as it takes.
 */
export async function checkWorkbookArchive(path: string, limits: ArchiveLimits): Promise<void> {
    const file = await open(path, 'r');
    try {
        const { size } = await file.stat();
        const tailLength = Math.min(size, 22 + 0xffff);
        const tail = Buffer.alloc(tailLength);
        await file.read(tail, 0, tailLength, size - tailLength);
        let end = -1;
        for (let index = tailLength - 22; index >= 0; index--) {
            if (tail.readUInt32LE(index) === END_OF_DIRECTORY) {
                end = index;
                break;
            }
        }
        if (end < 0) {
            throw new SheetError('the file is not a workbook (.xlsx): it is not a zip archive');
        }
        const entries = tail.readUInt16LE(end + 10);
        const directorySize = tail.readUInt32LE(end + 12);
        const directoryOffset = tail.readUInt32LE(end + 16);
        if (directoryOffset === 0xffffffff || entries === 0xffff || directoryOffset + directorySize > size) {
            throw new SheetError('the file is not a workbook an import reads: its zip directory is damaged or in ZIP64 form');
        }
        const directory = Buffer.alloc(directorySize);
        await file.read(directory, 0, directorySize, directoryOffset);
        let total = 0;
        for (let offset = 0, entry = 0; entry < entries; entry++) {
            if (offset + 46 > directory.length || directory.readUInt32LE(offset) !== DIRECTORY_ENTRY) {
                throw new SheetError('the file is not a workbook an import reads: its zip directory is damaged');
            }
            const packed = directory.readUInt32LE(offset + 20);
            const unpacked = directory.readUInt32LE(offset + 24);
            const nameLength = directory.readUInt16LE(offset + 28);
            const name = directory.toString('utf8', offset + 46, offset + 46 + nameLength);
            total += unpacked;
            if (unpacked > 1024 * 1024 && unpacked > packed * limits.maxRatio) {
                throw new SheetError(`the workbook's part ${name} unpacks ${Math.round(unpacked / Math.max(packed, 1))} times its packed size; at most ${limits.maxRatio} is accepted`);
            }
            offset += 46 + nameLength + directory.readUInt16LE(offset + 30) + directory.readUInt16LE(offset + 32);
        }
        if (total > limits.maxUnpackedBytes) {
            throw new SheetError(`the workbook unpacks to ${total} bytes; at most ${limits.maxUnpackedBytes} are accepted`);
        }
    } finally {
        await file.close();
    }
}
