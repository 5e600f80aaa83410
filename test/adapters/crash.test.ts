import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type AdapterHealth, SimulatedAgencySystem } from '../../adapters';
import { DAY, isoIn } from '../conformance/fixtures';
import { GatewayHarness } from '../gateway/harness';
import { EXPORTER_USCC, PERSONAS } from '../gateway/personas';
import { until } from '../support/until';

const HANDOFFS = 150;

describe('adapters killed with kill -9 mid-batch', function () {
    this.timeout(240_000);
    const customs = new SimulatedAgencySystem('CustomsMSP', 99);
    const tax = new SimulatedAgencySystem('TaxMSP', 99);
    let harness: GatewayHarness;
    let folder: string;
    let child: ChildProcess | undefined;
    const output: string[] = [];

    async function count(name: string): Promise<number> {
        const result = await harness.database.pool.query<{ count: string }>('SELECT count(*) FROM ledger_events WHERE name = $1::text', [name]);
        return Number(result.rows[0]?.count ?? 0);
    }

    function startAdapters(): ChildProcess {
        const process_ = spawn(process.execPath, [join(__dirname, '..', '..', 'scripts', 'adapters.js')], {
            env: {
                ...process.env, DATABASE_URL: harness.database.url, COUNTERFOIL_GATEWAY_URL: harness.url,
                COUNTERFOIL_ADAPTERS_FILE: join(folder, 'adapters.json'), COUNTERFOIL_TOKEN_KEY_FILE: join(harness.keyDir, 'token.pem'), LOG_LEVEL: 'warn',
            },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        process_.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        process_.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        return process_;
    }

    /** Waits for a condition, with the processes' output in the failure. */
    async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
        await until(check, what, { timeoutMs, intervalMs: 100, context: () => `adapter output:\n${output.join('').slice(-3000)}` });
    }

    async function kill(): Promise<void> {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child?.kill('SIGKILL');
        await exited;
    }

    before(async () => {
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-adapters-'));
        harness = await GatewayHarness.start();
        const adapter = (name: string, organisation: string, system: string, sends: string[]): Record<string, unknown> => ({
            name, organisation, transport: 'http-feed', system, schedule: '* * * * * *', mode: 'relay', sends, receives: ['EXPORT_DECLARATION'],
        });
        await writeFile(join(folder, 'adapters.json'), JSON.stringify({
            adapters: [adapter('customs', 'CustomsMSP', await customs.start(), ['EXPORT_DECLARATION']), adapter('tax', 'TaxMSP', await tax.start(), [])],
        }));
        for (let index = 1; index <= HANDOFFS; index++) {
            const number = `22012026950000${String(index).padStart(4, '0')}`;
            customs.send({ kind: 'document', type: 'EXPORT_DECLARATION', number, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: Buffer.from(number).toString('base64') });
            customs.send({ kind: 'handoff', messageId: `CRASH-${number}`, recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number }, payload: Buffer.from(`<报关单 ${number}/>`).toString('base64') });
        }
    });

    after(async () => {
        child?.kill('SIGKILL');
        await harness?.stop();
        await Promise.all([customs.stop(), tax.stop()]);
        await rm(folder, { recursive: true, force: true });
    });

    it('delivers and confirms every handoff exactly once across two kills', async () => {
        child = startAdapters();
        await waitFor(async () => (await count('HandoffSent')) >= 30, '30 handoffs recorded');
        await kill(); // in the middle of the first outbox page: its cursor has not moved
        child = startAdapters();
        await waitFor(async () => (await count('HandoffReceived')) >= 40, '40 receipts recorded');
        await kill(); // while payloads are being relayed and confirmed
        child = startAdapters();
        await waitFor(async () => (await count('HandoffAccepted')) >= HANDOFFS, `all ${HANDOFFS} handoffs accepted`);
        const stopped = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await stopped;

        expect(await count('DocumentIssued'), 'documents issued once each').to.equal(HANDOFFS);
        expect(await count('HandoffSent'), 'handoffs recorded once each').to.equal(HANDOFFS);
        expect(await count('HandoffReceived'), 'receipts recorded once each').to.equal(HANDOFFS);
        expect(await count('HandoffAccepted'), 'decisions recorded once each').to.equal(HANDOFFS);
        expect(await count('HandoffMismatch')).to.equal(0);
        expect(tax.holdings().size, 'the agency holds every message').to.equal(HANDOFFS);
        // The hub knows the health of adapters running beside it, through the database.
        const admin = await harness.token(PERSONAS.customsAdmin);
        const health = await harness.request<AdapterHealth[]>('GET', '/v1/adapters', { token: admin });
        expect(health.body.map((entry) => [entry.name, entry.organisation, entry.consecutiveFailures, entry.quarantined, entry.parked]))
            .to.deep.equal([['customs', 'CustomsMSP', 0, 0, 0], ['tax', 'TaxMSP', 0, 0, 0]]);
        expect(health.body.every((entry) => entry.lastSuccessAt !== null && (entry.lagSeconds ?? 99) < 60)).to.equal(true);
        const metrics = await (await fetch(`${harness.url}/metrics`)).text();
        expect(metrics).to.match(/^counterfoil_adapter_lag_seconds\{adapter="customs",organisation="CustomsMSP"\} \d+$/m);
        expect(metrics).to.match(/^counterfoil_adapter_quarantined_records\{adapter="tax",organisation="TaxMSP"\} 0$/m);
        const redelivered = [...tax.holdings().values()].filter((held) => held.attempts > 1).length;
        console.log(`      tally: ${HANDOFFS} handoffs, each recorded, received and accepted once across two kill -9; ${redelivered} delivered to the agency more than once (at-least-once delivery)`);
    });
});
