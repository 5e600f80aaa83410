import type { Writable } from 'node:stream';
import * as ExcelJS from 'exceljs';

/** A cell: text, a number, or empty. */
export type Cell = string | number | null;

export interface Column {
    /** The heading in each language the console speaks. */
    readonly en: string;
    readonly zh: string;
}

export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
    csv: 'text/csv; charset=utf-8',
    xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/**
 * Text a spreadsheet would read as a formula (or as a command, through DDE) starts with one of
 * these; a leading apostrophe makes it plain text in Excel, LibreOffice and WPS alike, and
 * shows the reader that the value was altered (OWASP, "CSV Injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralise(cell: Cell): Cell {
    return typeof cell === 'string' && FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** A field of RFC 4180 CSV: quoted when it holds a quote, a separator or a line break. */
function csvField(cell: Cell): string {
    if (cell === null) {
        return '';
    }
    const text = String(neutralise(cell));
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes rows to a stream as they come, in one of the export formats. */
export interface TableWriter {
    /** Writes rows; resolves when the stream can take more. */
    rows(rows: readonly Cell[][]): Promise<void>;
    /** Ends the table and the stream. */
    end(): Promise<void>;
}

/** Waits until the stream has passed on what it holds (its buffer below its high-water mark). */
function drained(stream: Writable): Promise<void> {
    if (!stream.writableNeedDrain) {
        return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
        const done = (error?: Error): void => {
            stream.off('drain', done);
            stream.off('close', closed);
            if (error) {
                reject(error);
            } else {
                resolve();
            }
        };
        const closed = (): void => done(new Error('the download was closed before it ended'));
        stream.once('drain', done);
        stream.once('close', closed);
    });
}

/**
 * CSV as Excel and WPS open it: UTF-8 with a byte-order mark (without one, Chinese text is read
 * in the machine's code page), CRLF line ends, the headings first.
 */
function csvWriter(stream: Writable, headings: readonly string[]): TableWriter {
    stream.write(`\uFEFF${headings.map(csvField).join(',')}\r\n`);
    return {
        rows: async (rows) => {
            stream.write(rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join(''));
            await drained(stream);
        },
        end: () => new Promise((resolve) => { stream.end(resolve); }),
    };
}

/**
 * An Office Open XML workbook of one sheet, written a row at a time: exceljs's streaming writer
 * zips each committed row into the stream instead of building the workbook in memory. Strings
 * are inline (no shared-string table, which would grow with the export).
 */
function xlsxWriter(stream: Writable, sheet: string, headings: readonly string[]): TableWriter {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: false, useSharedStrings: false });
    const worksheet = workbook.addWorksheet(sheet, { views: [{ state: 'frozen', ySplit: 1 }] });
    worksheet.addRow([...headings]).commit();
    return {
        rows: async (rows) => {
            for (const row of rows) {
                worksheet.addRow(row.map(neutralise)).commit();
            }
            await drained(stream);
        },
        end: async () => {
            worksheet.commit();
            await workbook.commit();
        },
    };
}

export function tableWriter(format: ExportFormat, stream: Writable, sheet: string, columns: readonly Column[], language: Language): TableWriter {
    const headings = columns.map((column) => column[language]);
    return format === 'csv' ? csvWriter(stream, headings) : xlsxWriter(stream, sheet, headings);
}
