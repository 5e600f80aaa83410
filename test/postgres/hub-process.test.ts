import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { freePort } from '../../network/postgres';
import { until } from '../support/until';

const run = promisify(execFile);

/** The hub (`npm start -- --no-simulators`) as a terminal runs it: in a process group of its own. */
interface Hub {
    readonly process: ChildProcess;
    readonly output: string[];
    readonly exited: Promise<number | null>;
}

describe('the hub\'s processes', function () {
    this.timeout(240_000);
    let folder: string;
    let port: number;
    let postgresPort: number;

    function start(): Hub {
        const output: string[] = [];
        const child = spawn(process.execPath, [join(__dirname, '..', '..', 'scripts', 'start.js'), '--no-simulators'], {
            detached: true, stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, DATABASE_URL: '', PORT: String(port), COUNTERFOIL_POSTGRES_PORT: String(postgresPort), COUNTERFOIL_DATA_DIR: folder, LOG_LEVEL: 'warn' },
        });
        child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        return { process: child, output, exited };
    }

    async function ready(hub: Hub): Promise<void> {
        await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 'the hub to be ready', { intervalMs: 250, context: () => hub.output.join('') });
    }

    async function serversOnFolder(): Promise<string> {
        return run('pgrep', ['-af', join(folder, 'postgres')]).then(({ stdout }) => stdout, () => '');
    }

    before(async () => {
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-test-pg-hub-'));
        await chmod(folder, 0o755);
        port = await freePort();
        postgresPort = await freePort();
    });

    after(async () => {
        for (const line of (await serversOnFolder()).split('\n').filter(Boolean)) {
            process.kill(Number(line.split(' ')[0]), 'SIGINT');
        }
        await until(async () => (await serversOnFolder()) === '', 'every server on the folder to stop');
        await rm(folder, { recursive: true, force: true });
    });

    it('stop in order and quietly on Ctrl-C, the database last', async () => {
        const hub = start();
        await ready(hub);
        // A terminal's Ctrl-C signals the whole foreground process group.
        process.kill(-(hub.process.pid as number), 'SIGINT');
        expect(await hub.exited).to.equal(0);
        const printed = hub.output.join('');
        expect(printed).to.include('Counterfoil is running');
        expect(printed.match(/^.*(Error|^\s+at ).*$/gm), `no error or stack trace on the way out:\n${printed}`).to.equal(null);
        expect(await serversOnFolder(), 'no PostgreSQL left running').to.equal('');
    });

    it('start again after the hub was killed, stopping the database it left behind', async () => {
        const killed = start();
        await ready(killed);
        process.kill(killed.process.pid as number, 'SIGKILL');
        await killed.exited;
        expect(await serversOnFolder(), 'the killed hub left its PostgreSQL running').to.not.equal('');
        const again = start();
        await ready(again);
        expect(again.output.join('')).to.include('stopped the PostgreSQL server an earlier hub left running');
        process.kill(-(again.process.pid as number), 'SIGINT');
        expect(await again.exited).to.equal(0);
        expect(await serversOnFolder()).to.equal('');
    });
});
