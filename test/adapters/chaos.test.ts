import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Pool } from 'pg';
import { EXPORT_FLOW_AGENCIES, exportFlowAdapters, type FlowAgency, exportScenario, type ScenarioTotals, SimulatedAgencySystem } from '../../adapters';
import { TokenService } from '../../gateway/auth/tokens';
import { createDatabase, type PostgresServer, startEmbeddedPostgres } from '../../network/postgres';
import { PERSONAS } from '../gateway/personas';
import { startTestNetwork, type TestNetwork } from '../support/network';
import { freePort } from '../support/postgres';
import { until } from '../support/until';

/**
 * Nothing handed between agencies goes missing unnoticed, whatever happens: real processes (the
 * hub, the adapters, PostgreSQL of its own, five agency systems over HTTP), faults in every agency,
 * the adapters killed with kill -9 twice mid-batch, one agency offline for 30 s, another restarted,
 * PostgreSQL restarted once; on the CometBFT network, a validator killed with kill -9 as well.
 * COUNTERFOIL_CHAOS_HANDOFFS sets the size (10,000 by default); COUNTERFOIL_CHAOS_LEDGERS which
 * ledgers it runs on (embedded,network by default).
 */
const TARGET = Number(process.env.COUNTERFOIL_CHAOS_HANDOFFS ?? 10_000);
/**
 * On the network every transaction is executed by five nodes and waits for a block: on two cores
 * it commits about a third of what the embedded ledger does, so `npm test` sends fewer handoffs
 * through it (COUNTERFOIL_CHAOS_NETWORK_HANDOFFS; the README gives a run of 10,000).
 */
const NETWORK_TARGET = Number(process.env.COUNTERFOIL_CHAOS_NETWORK_HANDOFFS ?? 2_500);
const LEDGERS = (process.env.COUNTERFOIL_CHAOS_LEDGERS ?? 'embedded,network').split(',').map((name) => name.trim());
/** Declarations a second reaching customs; each brings about 3.5 handoffs and 14 ledger transactions. */
const RATE = Number(process.env.COUNTERFOIL_CHAOS_RATE ?? 12);
const RECEIPT_SECONDS = 20;
const MAX_RETRANSMISSIONS = 2;
const OFFLINE_MS = 30_000;

for (const ledger of ['embedded', 'network'] as const) {
    if (LEDGERS.includes(ledger)) {
        chaos(ledger, ledger === 'network' ? NETWORK_TARGET : TARGET);
    }
}

function chaos(ledger: 'embedded' | 'network', target: number): void {
describe(`chaos on the ${ledger === 'network' ? 'CometBFT network (5 validators)' : 'embedded ledger'}: ${target.toLocaleString('en')} handoffs through crashes, outages and faults`, function () {
    this.timeout(0); // bounded by the waits below, each with its own limit
    const systems: Record<FlowAgency, SimulatedAgencySystem> = {
        // Senders list 1 % of their records twice; recipients drop 5 % of deliveries for good and
        // store 1 % damaged on the first attempt; tax and forex reject some by their own rules.
        commerce: new SimulatedAgencySystem('CommerceMSP', 7, { duplicatePercent: 1 }),
        inspection: new SimulatedAgencySystem('InspectionMSP', 7, { duplicatePercent: 1, delayMs: 5 }),
        customs: new SimulatedAgencySystem('CustomsMSP', 7, { duplicatePercent: 1, dropPercent: 5, corruptPercent: 1 }),
        tax: new SimulatedAgencySystem('TaxMSP', 7, { dropPercent: 5, corruptPercent: 1, rejectPercent: 2 }),
        forex: new SimulatedAgencySystem('ForexMSP', 7, { dropPercent: 5, corruptPercent: 1, rejectPercent: 1 }),
    };
    const output: string[] = [];
    let folder: string;
    let postgresPort: number;
    let postgres: PostgresServer | undefined;
    let pool: Pool;
    let hub: ChildProcess | undefined;
    let adapters: ChildProcess | undefined;
    let gatewayUrl: string;
    let databaseUrl: string;
    let totals: ScenarioTotals;
    let network: TestNetwork | undefined;

    function spawnNode(script: string, environment: NodeJS.ProcessEnv, label: string): ChildProcess {
        const child = spawn(process.execPath, [join(__dirname, '..', '..', 'scripts', script)], {
            env: { ...process.env, LOG_LEVEL: 'warn', ...environment }, stdio: ['ignore', 'pipe', 'pipe'],
        });
        const keep = (chunk: Buffer): void => {
            output.push(`[${label}] ${chunk.toString()}`);
            output.splice(0, Math.max(0, output.length - 200));
        };
        child.stdout?.on('data', keep);
        child.stderr?.on('data', keep);
        return child;
    }

    /** Waits for a condition, with the processes' output in the failure. */
    async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
        await until(check, what, { timeoutMs, intervalMs: 250, context: () => `recent output:\n${output.join('').slice(-4000)}` });
    }

    async function count(sql: string, values: unknown[] = []): Promise<number> {
        const result = await pool.query<{ count: string }>(sql, values);
        return Number(result.rows[0]?.count ?? 0);
    }

    const onLedger = (): Promise<number> => count('SELECT count(*) FROM handoffs');

    async function killAdapters(): Promise<void> {
        const child = adapters;
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child?.kill('SIGKILL');
        await exited;
        adapters = startAdapters();
    }

    function startAdapters(): ChildProcess {
        return spawnNode('adapters.js', {
            DATABASE_URL: databaseUrl, COUNTERFOIL_GATEWAY_URL: gatewayUrl,
            COUNTERFOIL_ADAPTERS_FILE: join(folder, 'adapters.json'), COUNTERFOIL_TOKEN_KEY_FILE: join(folder, 'hub', 'token-signing-key.pem'),
        }, 'adapters');
    }

    async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
        if (!child || child.exitCode !== null || child.signalCode !== null) {
            return;
        }
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill(signal);
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
        child.kill('SIGKILL');
    }

    before(async () => {
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-chaos-'));
        await chmod(folder, 0o755);
        postgresPort = await freePort();
        postgres = await startEmbeddedPostgres({ dataDir: join(folder, 'postgres'), port: postgresPort });
        databaseUrl = await createDatabase(postgres.url, 'chaos');
        pool = new Pool({ connectionString: databaseUrl, max: 4 });
        pool.on('error', () => undefined); // the restart below closes idle connections

        if (ledger === 'network') {
            network = await startTestNetwork({ validators: 5 });
        }
        const port = await freePort();
        gatewayUrl = `http://127.0.0.1:${port}`;
        hub = spawnNode('gateway.js', {
            // One hub plays all five agencies (their adapters are all in it), so it acts for every organisation.
            ...(network ? { LEDGER: 'network', COUNTERFOIL_NETWORK_DIR: network.dir, COUNTERFOIL_NETWORK_COMMIT_TIMEOUT_SECONDS: '300', COUNTERFOIL_NETWORK_ACT_FOR: 'every' } : {}),
            DATABASE_URL: databaseUrl, PORT: String(port), COUNTERFOIL_DATA_DIR: join(folder, 'hub'),
            COUNTERFOIL_RECONCILIATION_SCHEDULE: '*/2 * * * * *', COUNTERFOIL_RATE_LIMIT_PER_MINUTE: '1000000',
        }, 'hub');
        await waitFor(async () => (await fetch(`${gatewayUrl}/readyz`)).ok, 'the hub to be ready', 60_000);

        const tokens = await TokenService.open(join(folder, 'hub', 'token-signing-key.pem'));
        const admin = await tokens.issue(PERSONAS.customsAdmin);
        for (const [documentType, sender, recipient] of [
            ['LICENCE', 'CommerceMSP', 'CustomsMSP'], ['ORIGIN_CERT', 'InspectionMSP', 'CustomsMSP'],
            ['EXPORT_DECLARATION', 'CustomsMSP', 'TaxMSP'], ['EXPORT_DECLARATION', 'CustomsMSP', 'ForexMSP'],
        ]) {
            const answer = await fetch(`${gatewayUrl}/v1/deadline-policies`, {
                method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${admin}` },
                body: JSON.stringify({ documentType, sender, recipient, receiptSeconds: RECEIPT_SECONDS, acknowledgementSeconds: 120 }),
            });
            expect(answer.status, await answer.text()).to.be.oneOf([200, 201]);
        }

        const configs = await exportFlowAdapters(systems, { schedule: '* * * * * *', maxDeliveryAttempts: 2, maxRetransmissions: MAX_RETRANSMISSIONS, concurrency: 16 });
        await writeFile(join(folder, 'adapters.json'), JSON.stringify({ adapters: configs }));
        // About 3.5 handoffs a declaration. Customs lodges each declaration 20 s after its licence,
        // as a trader would, so that its verification finds the licence on the ledger.
        const declarations = Math.ceil(target / 3.5);
        totals = exportScenario(systems, { seed: 7, declarations, pace: { start: Date.now(), everyMs: 1000 / RATE, customsLagMs: 20_000 } });
    });

    after(async () => {
        await stopChild(adapters, 'SIGTERM');
        await stopChild(hub, 'SIGTERM');
        await pool?.end().catch(() => undefined);
        await Promise.all(Object.values(systems).map((system) => system.stop()));
        await postgres?.stop().catch(() => undefined);
        await network?.stop();
        await rm(folder, { recursive: true, force: true });
    });

    it('records every handoff once, confirms every delivered one, and leaves every other one an open case of the right class', async () => {
        const started = Date.now();
        const total = totals.handoffs;
        const timeline: string[] = [];
        const mark = (what: string): void => {
            timeline.push(`${Math.round((Date.now() - started) / 1000)} s: ${what}`);
        };
        const reached = (fraction: number): Promise<void> =>
            waitFor(async () => (await onLedger()) >= Math.floor(total * fraction), `${Math.round(fraction * 100)} % of the handoffs on the ledger`, 30 * 60_000);

        adapters = startAdapters();
        await reached(0.1);
        mark(`kill -9 the adapters (${await onLedger()} handoffs on the ledger)`);
        await killAdapters();
        await reached(0.25);
        mark('forex offline for 30 s');
        const backOnline = systems.forex.offlineFor(OFFLINE_MS).then(() => mark('forex back online'));
        await reached(0.4);
        mark('PostgreSQL stopped');
        await postgres?.stop();
        await new Promise((resolve) => setTimeout(resolve, 2000));
        postgres = await startEmbeddedPostgres({ dataDir: join(folder, 'postgres'), port: postgresPort });
        mark('PostgreSQL started again');
        if (network) {
            mark(`kill -9 the tax validator (${await onLedger()} handoffs on the ledger)`);
            await network.kill('tax');
        }
        await reached(0.55);
        mark(`kill -9 the adapters (${await onLedger()} handoffs on the ledger)`);
        await killAdapters();
        await reached(0.7);
        if (network) {
            mark('the tax validator started again');
            await network.start('tax');
        }
        mark('tax restarted (down 2 s)');
        await systems.tax.restart(2000);
        await backOnline;
        await reached(1);
        mark('every handoff on the ledger');

        // The expected end of each handoff, from the recipients' own fault knobs.
        const expected = new Map<string, string>();
        for (const transfer of totals.transfers) {
            const recipient = systems[EXPORT_FLOW_AGENCIES.find((agency) => agency.organisation === transfer.recipient)?.name as FlowAgency];
            expected.set(`${transfer.sender}/${transfer.messageId}`, recipient.drops(transfer.sender, transfer.messageId)
                ? 'SENT' : recipient.rejects(transfer.sender, transfer.messageId) ? 'REJECTED' : 'ACCEPTED');
        }
        const lostExpected = [...expected.values()].filter((status) => status === 'SENT').length;
        const rejectedExpected = [...expected.values()].filter((status) => status === 'REJECTED').length;
        // Settled: every delivered handoff decided, every dropped one retransmitted to the limit and
        // past its deadline, and one open case for each that is not accepted.
        await waitFor(async () => {
            const decided = await count("SELECT count(*) FROM handoffs WHERE status IN ('ACCEPTED', 'REJECTED')");
            const givenUp = await count(`SELECT count(*) FROM handoffs WHERE status = 'SENT' AND receipt_deadline < now() AND (record ->> 'retransmissions')::integer >= $1::integer`, [MAX_RETRANSMISSIONS]);
            const cases = await count('SELECT count(*) FROM reconciliation_cases WHERE closed_at IS NULL');
            return decided + givenUp === total && cases === lostExpected + rejectedExpected;
        }, 'every handoff to settle', 20 * 60_000);
        mark('settled');
        await stopChild(adapters, 'SIGTERM');
        if (network) {
            // The validator killed mid-run caught up: every node holds the same last block.
            const running = network;
            const nodePools = await Promise.all(running.layout.nodes.map((node) => running.pool(node.name)));
            const tips = async (): Promise<string[]> => Promise.all(nodePools.map(async (nodePool) => (await nodePool.query<{ tip: string }>(
                "SELECT number || ':' || encode(header_hash, 'hex') AS tip FROM ledger_blocks ORDER BY number DESC LIMIT 1")).rows[0]?.tip ?? ''));
            await waitFor(async () => new Set(await tips()).size === 1, 'every validator to hold the same last block', 120_000);
            mark('every validator holds the same last block');
        }

        const statuses = await pool.query<{ sender: string; message_id: string; status: string; receipt_hash: string | null }>(
            "SELECT sender, message_id, status, record -> 'receipt' ->> 'payloadHash' AS receipt_hash FROM handoffs");
        const onLedgerNow = new Map(statuses.rows.map((row) => [`${row.sender}/${row.message_id}`, row]));
        const sentTwice = await count("SELECT count(*) FROM (SELECT 1 FROM handoff_steps WHERE name = 'HandoffSent' GROUP BY sender, message_id HAVING count(*) > 1) AS repeated");
        const missing = [...expected.keys()].filter((key) => !onLedgerNow.has(key));
        const unexpected = [...onLedgerNow.keys()].filter((key) => !expected.has(key));
        const wrongEnd = [...expected].filter(([key, status]) => onLedgerNow.get(key)?.status !== status).map(([key, status]) => `${key}: ${onLedgerNow.get(key)?.status} (expected ${status})`);

        // What each recipient holds is what the ledger says it confirmed, and what was sent.
        let delivered = 0;
        let unconfirmed = 0;
        let healed = 0;
        const sent = await pool.query<{ sender: string; message_id: string; payload_hash: string }>("SELECT sender, message_id, record ->> 'payloadHash' AS payload_hash FROM handoffs");
        const sentHash = new Map(sent.rows.map((row) => [`${row.sender}/${row.message_id}`, row.payload_hash]));
        for (const name of ['customs', 'tax', 'forex'] as const) {
            for (const [key, held] of systems[name].holdings()) {
                delivered++;
                const hash = createHash('sha256').update(held.payload).digest('hex');
                healed += held.attempts > 1 ? 1 : 0;
                if (onLedgerNow.get(key)?.receipt_hash !== hash || sentHash.get(key) !== hash) {
                    unconfirmed++;
                }
            }
        }
        const openCases = await pool.query<{ class: string; sender: string; message_id: string }>('SELECT class, sender, message_id FROM reconciliation_cases WHERE closed_at IS NULL');
        const wrongCases = openCases.rows.filter((row) => ({ SENT: 'NOT_DELIVERED', REJECTED: 'REJECTED' } as Record<string, string>)[expected.get(`${row.sender}/${row.message_id}`) ?? ''] !== row.class);
        const casesOnLedger = await count("SELECT count(*) FROM cases WHERE status = 'OPEN' AND case_id LIKE 'REC-%'");
        const closedCases = await count('SELECT count(*) FROM reconciliation_cases WHERE closed_at IS NOT NULL');
        const documents = await count('SELECT count(*) FROM documents');
        const verifications = await count('SELECT count(*) FROM verifications');
        const valid = await count("SELECT count(*) FROM verifications WHERE verdict = 'VALID'");
        const duplicatesListed = Object.values(systems).reduce((sum, system) => sum + system.duplicated(), 0);

        console.log([
            `      timeline: ${timeline.join('; ')}`,
            `      tally: ${total} handoffs sent by the agencies (${duplicatesListed} outbox records listed twice), ${onLedgerNow.size} on the ledger, ${sentTwice} recorded twice, ${missing.length} missing;`,
            `             ${delivered} delivered, every one confirmed with the hash the agency stored (${unconfirmed} not), ${healed} stored damaged first and healed by retransmission;`,
            `             ${statuses.rows.filter((row) => row.status === 'ACCEPTED').length} accepted, ${rejectedExpected} rejected by the recipient, ${lostExpected} never stored by the recipient;`,
            `             ${openCases.rowCount} cases open (${casesOnLedger} on the ledger), ${wrongCases.length} of the wrong class; ${closedCases} closed by themselves when the confirmation came;`,
            `             ${documents} documents and ${verifications} verifications (${valid} valid), each once; ${Math.round((Date.now() - started) / 1000)} s in all`,
        ].join('\n'));

        expect(missing, 'handoffs the agencies sent that the ledger lacks').to.deep.equal([]);
        expect(unexpected, 'handoffs on the ledger no agency sent').to.deep.equal([]);
        expect(sentTwice, 'handoffs recorded twice').to.equal(0);
        expect(wrongEnd.slice(0, 10), 'handoffs that ended otherwise than their recipient decided').to.deep.equal([]);
        expect(unconfirmed, 'deliveries the ledger does not confirm with the stored hash').to.equal(0);
        expect(delivered).to.equal(total - lostExpected);
        expect(wrongCases, 'open cases of the wrong class').to.deep.equal([]);
        expect(openCases.rowCount, 'one open case per unconfirmed handoff').to.equal(lostExpected + rejectedExpected);
        expect(casesOnLedger, 'the open cases are on the ledger').to.equal(lostExpected + rejectedExpected);
        expect(documents, 'licences, certificates and declarations, each once').to.equal(totals.licences + totals.certificates + totals.declarations);
        expect(verifications, 'one verification per declaration').to.equal(totals.declarations);
    });
});
}
