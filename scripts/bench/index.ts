/**
 * `npm run bench [-- --seconds 15] [--clients 32] [--rates 100,500,1000] [--scale 1000000,10000000] [--transactions 1000000]`
 *   the embedded ledger's benchmarks: each workload in a closed loop (maximum committed
 *   transactions a second, latency), permit verification in an open loop at fixed rates (latency
 *   and the indexer's lag), the baselines (raw PostgreSQL; the gateway over HTTP against direct
 *   calls), queries over one and ten million bulk-loaded handoffs, and the audit benchmark. Writes
 *   BENCHMARKS.md and bench/results/<time>.json (raw numbers with the machine's facts).
 * `npm run bench -- audit [--transactions 1000000] [--clients 32]`: the audit benchmark alone; writes
 *   bench/results/<time>-audit.json. A million transactions take about 17 minutes to commit on two
 *   cores; pass fewer for a quicker run.
 * `npm run bench -- queries [--scale 1000000,10000000]`: the queries at scale alone; writes
 *   bench/results/<time>-queries.json.
 * `npm run bench -- network [--seconds 15] [--clients 32] [--rates 10,100] [--timeout-commit 100ms]`: the
 *   CometBFT network on five validators (network up time, submit latency at fixed rates, committed
 *   transactions a second at saturation, each process's memory) against CometBFT's kvstore on the
 *   same topology; writes bench/results/<time>-network.json.
 * `npm run bench -- report bench/results/<time>.json [<time>-audit.json] [<time>-queries.json] [<time>-network.json]`:
 *   BENCHMARKS.md again from a results file, with the figures of separate audit, queries and network
 *   runs if they are named.
 *
 * On a PostgreSQL server of its own (embedded, in a temporary folder) unless DATABASE_URL names
 * one; its databases are dropped afterwards. Never part of `npm test`.
 */
import '../chaincode-log-level';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { createDatabase, dropDatabase, freePort, type PostgresServer, startEmbeddedPostgres } from '../../network/postgres';
import { type AuditBenchmark, auditBenchmark } from './audit';
import { embeddedBenchmarks, type EmbeddedResults, queriesAtScale } from './embedded';
import { ratio } from './measure';
import { type NetworkBenchmark, networkBenchmark } from './network';

const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
};

function integer(value: string | undefined, name: string, min: number, max: number): number {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) {
        console.error(`--${name} must be a whole number from ${min} to ${max}`);
        process.exit(2);
    }
    return number;
}

interface Machine {
    readonly date: string;
    readonly cores: number;
    readonly cpu: string;
    readonly memoryGb: number;
    readonly node: string;
    readonly postgres: string;
    readonly commit: string;
}

/** A network run's results as its file holds them. */
interface NetworkRun {
    readonly machine: Machine;
    readonly settings: Record<string, unknown>;
    readonly network: NetworkBenchmark;
}

function markdown(machine: Machine, settings: Record<string, unknown>, embedded: EmbeddedResults | undefined, audit: AuditBenchmark, network?: NetworkRun): string {
    const rows = (header: string[], lines: (string | number)[][]): string => [
        `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...lines.map((line) => `| ${line.join(' | ')} |`),
    ].join('\n');
    const parts = [
        '# Benchmarks',
        '',
        `Written by \`npm run bench\` on ${machine.date} (commit ${machine.commit}): ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB, Node ${machine.node}, ${machine.postgres}. `
        + `Settings: ${Object.entries(settings).map(([key, value]) => `${key} ${String(value)}`).join(', ')}. The raw numbers are in \`bench/results/\`. `
        + `${network ? 'The embedded ledger, and the CometBFT network of a separate run' : 'The embedded ledger'}; Hyperledger Fabric cannot be built on this machine (see the README).`,
        '',
    ];
    if (embedded) {
        parts.push(
            '## Workloads, closed loop (every client waits for its answer)', '',
            rows(['workload', 'clients', 'committed tx/s', 'operations/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'bench RSS MB / CPU %', 'PostgreSQL PSS MB / CPU %'],
                embedded.closedLoop.map((entry) => [entry.name, entry.clients, entry.transactionsPerSecond, entry.operationsPerSecond, entry.latencyMs.p50, entry.latencyMs.p95, entry.latencyMs.p99, entry.errors,
                    `${entry.usage.benchmarkRssMb} / ${entry.usage.benchmarkCpuPercent}`, `${entry.usage.postgresRssMb} / ${entry.usage.postgresCpuPercent}`])),
            '', 'CPU is in percent of one core. The benchmark process holds the ledger (endorsement, chaincode, commit), the gateway with its indexer (running throughout, as in the hub; each workload starts once it has indexed what the one before committed) and the clients. '
            + 'PostgreSQL\'s memory is the proportional set size summed over its processes (its shared buffers count once), and its CPU includes the connections that closed during the run.', '',
            '## Permit verification, open loop (arrivals at a fixed rate; latency from when each was due)', '',
            rows(['offered /s', 'achieved /s', 'reachable', 'p50 ms', 'p95 ms', 'p99 ms', 'indexer lag p50 ms', 'indexer lag p99 ms'],
                embedded.openLoop.map((entry) => [entry.offeredPerSecond, entry.operationsPerSecond, entry.reachable ? 'yes' : 'no', entry.latencyMs.p50, entry.latencyMs.p95, entry.latencyMs.p99, entry.indexerLagMs.p50, entry.indexerLagMs.p99])),
            '',
            '## Baselines', '',
            rows(['comparison', 'figure'], [
                ['raw PostgreSQL, a send\'s rows committed one transaction at a time (tx/s)', embedded.baselines.rawPostgres.transactionsPerSecond],
                ['send a handoff, embedded ledger, direct (tx/s)', embedded.baselines.gatewayOverDirect.direct],
                ['ledger ÷ raw PostgreSQL', ratio(embedded.baselines.gatewayOverDirect.direct, embedded.baselines.rawPostgres.transactionsPerSecond)],
                ['send a handoff through the gateway over HTTP, the project\'s own client (tx/s)', embedded.baselines.gatewayOverDirect.gateway],
                ['gateway ÷ direct', embedded.baselines.gatewayOverDirect.ratio],
                ...autocannonRows(embedded.baselines.gatewayOverDirect),
            ]),
            '',
            '## Queries at scale (handoffs bulk-loaded into the query tables)', '',
            rows(['query', 'handoffs', 'runs', 'p50 ms', 'p95 ms', 'max ms'], embedded.queries.map((entry) => [entry.name, entry.handoffs.toLocaleString('en'), entry.runs, entry.latencyMs.p50, entry.latencyMs.p95, entry.latencyMs.max])),
            '',
        );
    }
    if (network) {
        const { network: figures } = network;
        const { latency, saturation, kvstore } = figures;
        parts.push(
            `## The CometBFT network (a separate run, ${network.machine.date}, commit ${network.machine.commit})`, '',
            `${figures.validators} validators, one per agency, each with its Counterfoil node, on this machine; timeout_commit ${figures.timeoutCommit}; \`network up\` to the first committed block in ${figures.upSeconds} s.`, '',
            rows(['submit (simulate, broadcast, order, execute on every node, commit), open loop', 'achieved /s', 'reachable', 'p50 ms', 'p95 ms', 'p99 ms', 'errors'],
                latency.map((entry) => [`${entry.offeredPerSecond} offered a second`, entry.operationsPerSecond, entry.reachable ? 'yes' : 'no', entry.latencyMs.p50, entry.latencyMs.p95, entry.latencyMs.p99, entry.errors])),
            '',
            rows(['saturation (closed loop), the same run', 'committed tx/s'], [
                [`Counterfoil, ${saturation.clients} clients (p50 ${saturation.counterfoil.latencyMs.p50} ms)`, saturation.committedPerSecond],
                [`CometBFT's kvstore on the same topology, ${kvstore.clients} clients broadcasting`, kvstore.committedPerSecond],
                ['Counterfoil ÷ kvstore', ratio(saturation.committedPerSecond, kvstore.committedPerSecond)],
            ]),
            '',
        );
    }
    parts.push(
        '## Audit', '',
        rows(['step', 'transactions/s'], [
            [`commit (${audit.transactions.toLocaleString('en')} transactions, ${audit.blocks.toLocaleString('en')} blocks)`, audit.commitPerSecond],
            ['index into the query tables', audit.indexPerSecond], ['verify the hash chain', audit.chainPerSecond],
            ...(audit.replayInThreadPerSecond === undefined ? [] : [['replay, every creator, certificate, signature and validation code checked, signatures on the replaying thread (baseline)', audit.replayInThreadPerSecond]]),
            ['replay, every creator, certificate, signature and validation code checked' + (audit.replayInThreadPerSecond === undefined ? '' : ', signatures in a worker per core'), audit.replayPerSecond],
            [`full audit (replay, world state, query tables) — ${audit.verdict}`, audit.auditPerSecond],
        ]),
        '',
        '## Against the targets', '',
        'Embedded: ≥ 3,000 committed tx/s on the mixed workload; permit verification p99 ≤ 20 ms at 500/s (open loop); gateway ≥ 0.9 of direct; replay with every signature checked ≥ 14,000 tx/s; indexer lag p99 ≤ 1 s with 1,000 verifications/s reached; the overview ≤ 50 ms at 10 M handoffs. Network (`npm run bench -- network`): ≥ 0.5 of CometBFT\'s kvstore on the same topology; submit latency p50 ≤ 1 s and p99 ≤ 2 s at 100/s. See the figures above; where a target is missed, the README\'s Figures section says where the time goes.',
        '',
    );
    return parts.join('\n');
}

/** The gateway's figures as autocannon measured them, when the run had it. */
function autocannonRows(http: EmbeddedResults['baselines']['gatewayOverDirect']): (string | number)[][] {
    const cannon = http.autocannon;
    if (!cannon) {
        return [];
    }
    const { p50, p97_5: p97, p99 } = cannon.latencyMs;
    return [
        [`send a handoff through the gateway over HTTP, autocannon with ${cannon.connections} connections (tx/s; p50 / p97.5 / p99 ${p50} / ${p97} / ${p99} ms; ${cannon.errors} errors)`, cannon.transactionsPerSecond],
        ['gateway (autocannon) ÷ direct', http.autocannonRatio ?? '—'],
    ];
}

/** Writes raw results with the machine's facts to bench/results/<date><suffix>.json; returns the file's path. */
async function writeResults(machine: Machine, suffix: string, results: Record<string, unknown>): Promise<string> {
    const folder = resolve('bench', 'results');
    await mkdir(folder, { recursive: true });
    const file = join(folder, `${machine.date.replace(/[:.]/g, '-')}${suffix}.json`);
    await writeFile(file, `${JSON.stringify({ machine, ...results }, null, 2)}\n`);
    return file;
}

async function machineFacts(pool: Pool): Promise<Machine> {
    const version = await pool.query<{ server_version: string }>('SHOW server_version');
    return {
        date: new Date().toISOString(), cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 1073741824),
        node: process.version, postgres: `PostgreSQL ${version.rows[0]?.server_version ?? 'unknown'}`,
        commit: (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })(),
    };
}

async function main(): Promise<void> {
    const { values, positionals } = parseArgs({
        options: {
            seconds: { type: 'string', default: '15' }, clients: { type: 'string', default: '32' }, rates: { type: 'string', default: '100,500,1000' },
            scale: { type: 'string', default: '1000000,10000000' }, transactions: { type: 'string' }, 'timeout-commit': { type: 'string' },
        },
        allowPositionals: true, strict: true,
    });
    const [which = 'all', file] = positionals;
    if (which === 'report') {
        // Writes BENCHMARKS.md again from a results file (after a change to the report's layout),
        // with the audit and the queries of separate `audit` and `queries` runs' results files
        // when they are named after it (each said to be from its own run and commit).
        const { readFile } = await import('node:fs/promises');
        const saved = JSON.parse(await readFile(file ?? '', 'utf8')) as { machine: Machine; settings: Record<string, unknown>; embedded?: EmbeddedResults; audit: AuditBenchmark };
        let network: NetworkRun | undefined;
        for (const other of positionals.slice(2)) {
            const separate = JSON.parse(await readFile(other, 'utf8')) as {
                machine: Machine; settings: Record<string, unknown>; audit?: AuditBenchmark; queries?: EmbeddedResults['queries']; network?: NetworkBenchmark;
            };
            if (separate.network) {
                network = { machine: separate.machine, settings: separate.settings, network: separate.network };
            } else if (separate.audit) {
                saved.audit = separate.audit;
                saved.settings = { ...saved.settings, 'audit transactions': `${String(separate.settings['audit transactions'])} (a separate run, commit ${separate.machine.commit})` };
            } else if (separate.queries && saved.embedded) {
                saved.embedded = { ...saved.embedded, queries: separate.queries };
                saved.settings = { ...saved.settings, 'handoffs for the queries': `${String(separate.settings['handoffs for the queries'])} (a separate run, commit ${separate.machine.commit})` };
            } else {
                throw new Error(`${other} holds no audit, queries or network`);
            }
        }
        await writeFile('BENCHMARKS.md', markdown(saved.machine, saved.settings, saved.embedded, saved.audit, network));
        return;
    }
    if (which !== 'all' && which !== 'audit' && which !== 'queries' && which !== 'network') {
        console.error(`unknown benchmark ${which}: run all of them (no argument), audit, queries, network, or report FILE.json`);
        process.exit(2);
    }
    const clients = integer(values.clients, 'clients', 1, 256);
    const seconds = integer(values.seconds, 'seconds', 1, 3600);
    const scales = (values.scale ?? '').split(',').map((scale) => integer(scale, 'scale', 1000, 100_000_000));
    const transactions = integer(values.transactions ?? '1000000', 'transactions', 3, 10_000_000);
    const rates = (values.rates ?? '').split(',').map((rate) => integer(rate, 'rates', 1, 100_000));

    let folder: string | undefined;
    let server: PostgresServer | undefined;
    let serverUrl = process.env.DATABASE_URL;
    if (!serverUrl) {
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-bench-'));
        await chmod(folder, 0o755);
        server = await startEmbeddedPostgres({ dataDir: join(folder, 'data'), port: await freePort() });
        serverUrl = server.url;
    }
    const names = { ledger: `bench_ledger_${process.pid}`, scale: `bench_scale_${process.pid}`, audit: `bench_audit_${process.pid}` };
    const pools: Pool[] = [];
    const open = async (name: string): Promise<Pool> => {
        const pool = new Pool({ connectionString: await createDatabase(serverUrl as string, name), max: clients + 8 });
        pools.push(pool);
        return pool;
    };
    try {
        if (which === 'network') {
            const timeoutCommit = values['timeout-commit'] ?? '100ms';
            log(`CometBFT network, 5 validators, timeout_commit ${timeoutCommit}, against kvstore on the same topology`);
            const network = await networkBenchmark({ seconds, rates: values.rates === '100,500,1000' ? [10, 100] : rates, clients, timeoutCommit, log });
            const machine = await machineFacts(await open(names.ledger));
            log(`written: ${await writeResults(machine, '-network', { settings: { clients, 'seconds per run': seconds, 'timeout_commit': timeoutCommit }, network })}`);
            return;
        }
        if (which === 'queries') {
            log(`queries at scale (${scales.map((scale) => scale.toLocaleString('en')).join(', ')} handoffs)`);
            const queries = await queriesAtScale(await open(names.scale), scales, log);
            const machine = await machineFacts(pools[0] as Pool);
            log(`written: ${await writeResults(machine, '-queries', { settings: { 'handoffs for the queries': scales.join('/') }, queries })}`);
            return;
        }
        let embedded: EmbeddedResults | undefined;
        if (which === 'all') {
            log('embedded ledger workloads');
            embedded = await embeddedBenchmarks({ pool: await open(names.ledger), scalePool: await open(names.scale), clients, seconds, rates, scales, keyDir: folder ?? tmpdir(), log });
        }
        log('audit');
        const audit = await auditBenchmark(await open(names.audit), transactions, clients, log);
        if (which === 'audit') {
            const machine = await machineFacts(pools[0] as Pool);
            log(`written: ${await writeResults(machine, '-audit', { settings: { clients, 'audit transactions': transactions }, audit })}`);
        }
        if (which === 'all') {
            const machine = await machineFacts(pools[0] as Pool);
            const settings = { clients, 'seconds per workload': seconds, rates: rates.join('/'), 'handoffs for the queries': scales.join('/'), 'audit transactions': transactions };
            const file = await writeResults(machine, '', { settings, embedded, audit });
            await writeFile('BENCHMARKS.md', markdown(machine, settings, embedded, audit));
            log(`written: BENCHMARKS.md and ${file}`);
        }
    } finally {
        for (const pool of pools) {
            await pool.end();
        }
        for (const name of Object.values(names)) {
            await dropDatabase(serverUrl, name).catch(() => undefined);
        }
        await server?.stop();
        if (folder) {
            await rm(folder, { recursive: true, force: true });
        }
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
