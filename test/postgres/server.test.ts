import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Client, Pool } from 'pg';
import { EmbeddedLedger } from '../../network/embedded';
import { GATEWAY_MIGRATIONS } from '../../gateway/indexer/migrations';
import { createDatabase, freePort, migrate, passwordFile, startEmbeddedPostgres } from '../../network/postgres';
import { until } from '../support/until';
import { testKeys } from '../support/keys';

const run = promisify(execFile);

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

async function connects(port: number, password: string): Promise<boolean> {
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    try {
        await client.connect();
        return true;
    } catch {
        return false;
    } finally {
        await client.end().catch(() => undefined);
    }
}

describe('the embedded PostgreSQL server', function () {
    this.timeout(180_000);
    let folder: string;

    beforeEach(async () => {
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-test-pg-server-'));
        await chmod(folder, 0o755);
    });

    afterEach(async () => {
        await rm(folder, { recursive: true, force: true });
    });

    it('makes a password of its own for each cluster, kept beside it in a file only its user may read', async () => {
        const port = await freePort();
        const server = await startEmbeddedPostgres({ dataDir: join(folder, 'data'), port });
        try {
            const password = (await readFile(passwordFile(join(folder, 'data')), 'utf8')).trim();
            expect((await stat(passwordFile(join(folder, 'data')))).mode & 0o777).to.equal(0o600);
            expect(password).to.have.length.greaterThan(20);
            expect(new URL(server.url).password).to.equal(password);
            expect(await connects(port, password)).to.equal(true);
            expect(await connects(port, 'counterfoil'), 'the password once fixed in the source').to.equal(false);
        } finally {
            await server.stop();
        }
    });

    it('gives a cluster made with the former fixed password one of its own', async () => {
        const port = await freePort();
        const first = await startEmbeddedPostgres({ dataDir: join(folder, 'data'), port });
        const client = new Client({ connectionString: first.url });
        await client.connect();
        await client.query("ALTER ROLE postgres PASSWORD 'counterfoil'");
        await client.end();
        await first.stop();
        await rm(passwordFile(join(folder, 'data')));
        const again = await startEmbeddedPostgres({ dataDir: join(folder, 'data'), port });
        try {
            expect(await connects(port, 'counterfoil')).to.equal(false);
            expect(await connects(port, (await readFile(passwordFile(join(folder, 'data')), 'utf8')).trim())).to.equal(true);
        } finally {
            await again.stop();
        }
    });

    it('stops a server an earlier process left running on its folder when that process was killed, and starts', async () => {
        const port = await freePort();
        const dataDir = join(folder, 'data');
        const module = join(__dirname, '..', '..', 'network', 'postgres', 'index.js');
        const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(module)}).startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} }).then(() => console.log('ready'))`],
            { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve) => child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
        const orphan = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
        expect(alive(orphan), 'the server outlived the process that started it').to.equal(true);
        const server = await startEmbeddedPostgres({ dataDir, port });
        try {
            expect(alive(orphan)).to.equal(false);
            expect(await connects(port, new URL(server.url).password)).to.equal(true);
        } finally {
            await server.stop();
        }
    });

    it('lets npm run audit exit 3 on a ledger with problems, starting and stopping the hub\'s stopped server itself', async () => {
        const port = await freePort();
        const dataDir = join(folder, 'postgres');
        const server = await startEmbeddedPostgres({ dataDir, port });
        try {
            const pool = new Pool({ connectionString: await createDatabase(server.url, 'counterfoil') });
            const ledger = await EmbeddedLedger.open({ pool, keys: await testKeys() });
            await ledger.close();
            await migrate(pool, 'gateway', GATEWAY_MIGRATIONS);
            await pool.query("UPDATE ledger_blocks SET data = overlay(data placing '#'::bytea from 30 for 1) WHERE number = 0");
            await pool.end();
        } finally {
            await server.stop();
        }
        const script = join(__dirname, '..', '..', 'scripts', 'audit.js');
        const audit = await run(process.execPath, [script, 'replay'], {
            env: { ...process.env, DATABASE_URL: '', COUNTERFOIL_DATA_DIR: folder, COUNTERFOIL_POSTGRES_PORT: String(port) },
        }).then(() => ({ code: 0, stdout: '' }), (error: { code: number; stdout: string }) => error);
        expect(audit.code, `${audit.stdout}\n${(audit as { stderr?: string }).stderr ?? ""}`).to.equal(3);
        expect(audit.stdout).to.match(/^PROBLEMS/);
        await until(async () => !(await run('pgrep', ['-f', dataDir]).then(() => true, () => false)), 'the audit\'s server to stop');
    });
});
