import type { Pool, PoolClient } from 'pg';
import type { Dataset, ExportScope } from './datasets';
import type { Cell, TableWriter } from './tables';

/** Rows fetched from PostgreSQL at a time: what an export holds in memory, whatever its size. */
export const EXPORT_FETCH_ROWS = 1000;

/**
 * A dataset's rows through a server-side cursor, a batch at a time, from one snapshot (a
 * read-only, repeatable-read transaction): an export is consistent while the indexer writes, and
 * a million rows cost the memory of one batch. Opening it runs the query, so that a failure is
 * answered as an error before any of the download is sent.
 */
export class ExportCursor {
    private constructor(private readonly client: PoolClient, private readonly dataset: Dataset, private readonly fetchRows: number) {}

    static async open(pool: Pool, dataset: Dataset, scope: ExportScope, fetchRows = EXPORT_FETCH_ROWS): Promise<ExportCursor> {
        const client = await pool.connect();
        const cursor = new ExportCursor(client, dataset, fetchRows);
        try {
            await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
            await client.query(`DECLARE export_rows NO SCROLL CURSOR FOR ${dataset.sql}`, dataset.values(scope));
        } catch (error) {
            await cursor.close(error as Error);
            throw error;
        }
        return cursor;
    }

    /** The next batch of rows as cells; empty once every row has been read. */
    async next(): Promise<Cell[][]> {
        const batch = await this.client.query<Record<string, unknown>>(`FETCH ${this.fetchRows} FROM export_rows`);
        return batch.rows.map((row) => this.dataset.cells(row));
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
