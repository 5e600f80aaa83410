import type { Pool } from 'pg';

export interface Migration {
    /** Ordered by this number; never renumber one that has shipped. */
    readonly id: number;
    readonly name: string;
    readonly sql: string;
}

/**
 * Applies the migrations of one component that the database has not seen yet, each in its own
 * transaction together with its bookkeeping row. An advisory lock keeps two processes starting
 * at once from applying the same migration twice.
 */
export async function migrate(pool: Pool, component: string, migrations: readonly Migration[]): Promise<void> {
    const client = await pool.connect();
    try {
        await client.query('SELECT pg_advisory_lock(hashtext($1::text))', [component]);
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
            component text NOT NULL, id integer NOT NULL, name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, id))`);
        const applied = await client.query<{ id: number }>('SELECT id FROM schema_migrations WHERE component = $1::text', [component]);
        const done = new Set(applied.rows.map((row) => row.id));
        for (const migration of [...migrations].sort((left, right) => left.id - right.id)) {
            if (done.has(migration.id)) {
                continue;
            }
            await client.query('BEGIN');
            try {
                await client.query(migration.sql);
                await client.query('INSERT INTO schema_migrations (component, id, name) VALUES ($1::text, $2::integer, $3::text)', [component, migration.id, migration.name]);
                await client.query('COMMIT');
            } catch (error) {
                await client.query('ROLLBACK');
                throw new Error(`migration ${component} ${migration.id} (${migration.name}) failed: ${(error as Error).message}`, { cause: error });
            }
        }
    } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1::text))', [component]).catch(() => undefined);
        client.release();
    }
}
