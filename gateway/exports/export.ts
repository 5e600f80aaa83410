import type { Pool, PoolClient } from 'pg';
import type { Response } from 'express';
import { type Cell, type Column, CONTENT_TYPES, type ExportFormat, type Language, type TableWriter, tableWriter } from './tables';

/** What a cursor reads: a query with its parameter values, and how each row becomes cells. */
export interface RowQuery<Row = Record<string, unknown>> {
    readonly sql: string;
    readonly values: readonly unknown[];
    cells(row: Row): Cell[];
}

/** Rows fetched from PostgreSQL at a time: what an export holds in memory, whatever its size. */
export const EXPORT_FETCH_ROWS = 1000;

/**
 * A query's rows through a server-side cursor, a batch at a time, from one snapshot (a
 * read-only, repeatable-read transaction): an export is consistent while the indexer writes, and
 * a million rows cost the memory of one batch. Opening it runs the query, so that a failure is
 * answered as an error before any of the download is sent.
 */
export class ExportCursor {
    private constructor(private readonly client: PoolClient, private readonly query: RowQuery, private readonly fetchRows: number) {}

    static async open(pool: Pool, query: RowQuery, fetchRows = EXPORT_FETCH_ROWS): Promise<ExportCursor> {
        const client = await pool.connect();
        const cursor = new ExportCursor(client, query, fetchRows);
        try {
            await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
            await client.query(`DECLARE export_rows NO SCROLL CURSOR FOR ${query.sql}`, [...query.values]);
        } catch (error) {
            await cursor.close(error as Error);
            throw error;
        }
        return cursor;
    }

    /** The next batch of rows as cells; empty once every row has been read. */
    async next(): Promise<Cell[][]> {
        const batch = await this.client.query<Record<string, unknown>>(`FETCH ${this.fetchRows} FROM export_rows`);
        return batch.rows.map((row) => this.query.cells(row));
    }

    /** Ends the transaction and gives the connection back (closing it if it could not even roll back). */
    async close(failure?: Error): Promise<void> {
        const ended = await this.client.query(failure ? 'ROLLBACK' : 'COMMIT').then(() => true, () => false);
        this.client.release(ended ? undefined : failure ?? new Error('the export\'s transaction could not be ended'));
    }
}

/**
 * Writes every row of a cursor, waiting for the writer (the download) to take each batch before
 * fetching the next; stops, and throws, when `stopped` says the download has gone. Answers how
 * many rows were written. The cursor is closed either way.
 */
export async function writeExport(cursor: ExportCursor, writer: TableWriter, stopped: () => boolean = () => false): Promise<number> {
    let rows = 0;
    try {
        for (let batch = await cursor.next(); batch.length > 0; batch = await cursor.next()) {
            if (stopped()) {
                throw new Error('the download was closed before it ended');
            }
            await writer.rows(batch);
            rows += batch.length;
        }
    } catch (error) {
        await cursor.close(error as Error);
        throw error;
    }
    await cursor.close();
    await writer.end();
    return rows;
}

/**
 * Sends a cursor's rows as a download. The headers go out before the rows: a failure half-way
 * breaks the connection, leaving the chunked body without its end (which every client reports),
 * so that a download cut short never looks complete.
 */
export async function sendTable(response: Response, cursor: ExportCursor, table: Readonly<{ format: ExportFormat; fileName: string; sheet: string; columns: readonly Column[]; language: Language }>): Promise<void> {
    response.status(200);
    response.setHeader('Content-Type', CONTENT_TYPES[table.format]);
    response.setHeader('Content-Disposition', `attachment; filename="${table.fileName}.${table.format}"`);
    response.setHeader('Cache-Control', 'no-store');
    try {
        await writeExport(cursor, tableWriter(table.format, response, table.sheet, table.columns, table.language), () => response.destroyed);
    } catch {
        response.destroy();
    }
}
