/**
 * The CometBFT network's figures, side by side in one run: submit latency at fixed rates and
 * committed transactions a second at saturation for Counterfoil on five validators, against
 * CometBFT's own `kvstore` application on the same five-validator topology (the engine's ceiling
 * on this machine), with the time `network up` takes and what each process holds in memory.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { cometbftBinary } from '../../network/cometbft/binary';
import { NetworkLedger } from '../../network/cometbft/ledger';
import {
    configureCometbft, type NetworkLayout, networkClean, nodeEnrolment, nodePrivateDataClient, networkUp, nodeDatabaseUrl, type NodePart, rpcUrl, running,
} from '../../network/cometbft/network';
import { cometRpc } from '../../network/cometbft/rpc';
import { freePort } from '../../network/postgres';
import { closedLoop, type LoopResult, openLoop } from './measure';

const run = promisify(execFile);

export interface NetworkBenchmark {
    readonly validators: number;
    readonly timeoutCommit: string;
    readonly upSeconds: number;
    /** Resident memory of each process, in MB, after the runs. */
    readonly rssMb: Record<string, number>;
    readonly latency: readonly (LoopResult & { readonly offeredPerSecond: number; readonly reachable: boolean })[];
    readonly saturation: { readonly clients: number; readonly counterfoil: LoopResult; readonly committedPerSecond: number };
    readonly kvstore: { readonly clients: number; readonly committedPerSecond: number; readonly seconds: number };
}

export type NetworkBenchOptions = Readonly<{ seconds: number; rates: readonly number[]; clients: number; timeoutCommit: string; log: (line: string) => void }>;

export async function networkBenchmark(options: NetworkBenchOptions): Promise<NetworkBenchmark> {
    const dir = await mkdtemp(join(tmpdir(), 'counterfoil-bench-network-'));
    const log = options.log;
    try {
        const started = Date.now();
        const layout = await networkUp({ dir, validators: 5, timeoutCommit: options.timeoutCommit });
        const upSeconds = Math.round((Date.now() - started) / 100) / 10;
        log(`network up with 5 validators in ${upSeconds} s`);
        const customs = layout.nodes[0] as NetworkLayout['nodes'][number];
        const pool = new Pool({ connectionString: await nodeDatabaseUrl(dir, layout, customs.name), max: 20 });
        const ledger = await NetworkLedger.open({ pool, rpcUrl: rpcUrl(customs), enrolment: await nodeEnrolment(dir, customs.name), privateData: await nodePrivateDataClient(dir, customs.name), commitTimeoutMs: 120_000, ownsPool: true });
        let measured: Omit<NetworkBenchmark, 'kvstore'>;
        try {
            const identity = await ledger.enrolment.enrol('CustomsMSP', { name: 'bench-customs', attributes: { role: 'operator' } });
            let sequence = 0;
            const issue = async (): Promise<void> => {
                const number = `2201${String(Date.now()).slice(-6)}${String(++sequence).padStart(8, '0')}`;
                const request = {
                    type: 'EXPORT_DECLARATION', number, holder: '91350100M000100Y43',
                    validFrom: new Date(Date.now() - 86_400_000).toISOString(), validTo: new Date(Date.now() + 365 * 86_400_000).toISOString(), summary: { port: '2201' },
                };
                await ledger.submit({
                    identity, contract: 'documents', transaction: 'Issue', arguments: [JSON.stringify(request)],
                    transient: { content: Buffer.from(JSON.stringify(request)) },
                });
            };
            const latency = [];
            for (const rate of options.rates) {
                const result = await openLoop(rate, options.seconds, 1, issue);
                log(`open loop ${rate}/s: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${result.transactionsPerSecond} tx/s, ${result.errors} errors`);
                latency.push(result);
            }
            const before = await height(customs);
            const counterfoil = await closedLoop(options.clients, options.seconds, 1, issue);
            const committedPerSecond = Math.round((await committedSince(customs, before.height)) / ((Date.now() - before.at) / 1000));
            log(`saturation, ${options.clients} clients: ${counterfoil.transactionsPerSecond} tx/s resolved, ${committedPerSecond} tx/s committed, p50 ${counterfoil.latencyMs.p50} ms`);
            const rssMb: Record<string, number> = {};
            for (const node of layout.nodes) {
                for (const part of ['cometbft', 'node'] as NodePart[]) {
                    const pid = await running(dir, node.name, part);
                    rssMb[`${node.name} ${part}`] = pid === undefined ? 0 : await rss(pid);
                }
            }
            rssMb['client and gateway-side ledger (this process)'] = Math.round(process.memoryUsage().rss / 1e6);
            const postgresPid = Number((await readFile(join(dir, 'postgres', 'data', 'postmaster.pid'), 'utf8')).split('\n')[0]);
            rssMb['PostgreSQL (postmaster and its backends)'] = await treeRss(postgresPid);
            measured = { validators: 5, timeoutCommit: options.timeoutCommit, upSeconds, rssMb, latency, saturation: { clients: options.clients, counterfoil, committedPerSecond } };
        } finally {
            await ledger.close();
        }
        await networkClean(dir);
        const kvstore = await kvstoreSaturation(options);
        log(`kvstore on 5 validators, ${kvstore.clients} clients: ${kvstore.committedPerSecond} tx/s committed`);
        return { ...measured, kvstore };
    } finally {
        await networkClean(dir).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
    }
}

const rpc = cometRpc;

async function height(node: { ports: { rpc: number } }): Promise<{ height: number; at: number }> {
    const status = await rpc<{ sync_info: { latest_block_height: string } }>(`http://127.0.0.1:${node.ports.rpc}`, 'status');
    return { height: Number(status.sync_info.latest_block_height), at: Date.now() };
}

/** Transactions in the blocks committed after a height, counted from the chain itself. */
async function committedSince(node: { ports: { rpc: number } }, after: number): Promise<number> {
    const url = `http://127.0.0.1:${node.ports.rpc}`;
    const last = (await height(node)).height;
    let total = 0;
    for (let high = last; high > after; high -= 20) {
        const low = Math.max(after + 1, high - 19);
        const chain = await rpc<{ block_metas: { num_txs: string }[] }>(url, `blockchain?minHeight=${low}&maxHeight=${high}`);
        total += chain.block_metas.reduce((sum, meta) => sum + Number(meta.num_txs), 0);
    }
    return total;
}

async function rss(pid: number): Promise<number> {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1000);
}

async function treeRss(pid: number): Promise<number> {
    const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }));
    const children = stdout.split('\n').map((line) => Number(line.trim())).filter((child) => child > 0);
    return (await rss(pid)) + (await Promise.all(children.map(rss))).reduce((sum, value) => sum + value, 0);
}

/**
 * CometBFT's built-in kvstore on five validators configured as `network up` configures them
 * (same timeout_commit, peers, mempool), saturated by the same number of clients, each
 * broadcasting its next transaction as soon as the node accepted the last.
 */
async function kvstoreSaturation(options: NetworkBenchOptions): Promise<{ clients: number; committedPerSecond: number; seconds: number }> {
    const binary = await cometbftBinary();
    const dir = await mkdtemp(join(tmpdir(), 'counterfoil-bench-kvstore-'));
    const processes: ChildProcess[] = [];
    try {
        const nodes: { home: string; ports: { p2p: number; rpc: number }; id: string; key: { address: string; pub_key: unknown } }[] = [];
        for (let index = 0; index < 5; index++) {
            const home = join(dir, `node${index}`);
            await run(binary, ['init', '--home', home]);
            nodes.push({
                home, ports: { p2p: await freePort(), rpc: await freePort() },
                id: (await run(binary, ['show-node-id', '--home', home])).stdout.trim(),
                key: JSON.parse(await readFile(join(home, 'config', 'priv_validator_key.json'), 'utf8')) as { address: string; pub_key: unknown },
            });
        }
        const genesis = JSON.parse(await readFile(join(nodes[0]?.home as string, 'config', 'genesis.json'), 'utf8')) as Record<string, unknown>;
        genesis.validators = nodes.map((node, index) => ({ address: node.key.address, pub_key: node.key.pub_key, power: '10', name: `v${index}` }));
        for (const [index, node] of nodes.entries()) {
            await writeFile(join(node.home, 'config', 'genesis.json'), JSON.stringify(genesis));
            const peers = nodes.filter((_, other) => other !== index).map((peer) => `${peer.id}@127.0.0.1:${peer.ports.p2p}`).join(',');
            await configureCometbft(join(node.home, 'config', 'config.toml'), { proxyApp: 'kvstore', ports: node.ports, peers, timeoutCommit: options.timeoutCommit, logLevel: 'error' });
            processes.push(spawn(binary, ['start', '--home', node.home], { stdio: 'ignore' }));
        }
        const url = `http://127.0.0.1:${nodes[0]?.ports.rpc}`;
        for (;;) {
            const status = await rpc<{ sync_info: { latest_block_height: string } }>(url, 'status').catch(() => undefined);
            if (status && Number(status.sync_info.latest_block_height) >= 2) {
                break;
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const before = await height(nodes[0] as { ports: { rpc: number } });
        const end = Date.now() + options.seconds * 1000;
        let sequence = 0;
        await Promise.all(Array.from({ length: options.clients }, async (_, client) => {
            const target = `http://127.0.0.1:${nodes[client % nodes.length]?.ports.rpc}`;
            while (Date.now() < end) {
                const tx = Buffer.from(`bench-${client}-${++sequence}=${'x'.repeat(200)}`).toString('base64');
                await fetch(`${target}/`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: sequence, method: 'broadcast_tx_sync', params: { tx } }) }).catch(() => undefined);
            }
        }));
        // What was accepted and is still in mempools commits over the next blocks: count those too.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const seconds = (Date.now() - before.at) / 1000;
        return { clients: options.clients, committedPerSecond: Math.round((await committedSince(nodes[0] as { ports: { rpc: number } }, before.height)) / seconds), seconds: Math.round(seconds) };
    } finally {
        for (const child of processes) {
            child.kill('SIGKILL');
        }
        await rm(dir, { recursive: true, force: true });
    }
}
