import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { AGENCIES, CONTENT_COLLECTIONS, ENTERPRISES_MSP } from '@counterfoil/chaincode';
import { AuthorityEnrolment, MembershipAuthority } from '../membership/authorities';
import { KeySealer } from '../membership/key-sealer';
import {
    createDatabase, dropDatabase, embeddedPostgresRunning, embeddedServerUrl, freePort, processAlive, startEmbeddedPostgres, stopEmbeddedPostgres,
} from '../postgres';
import type { GenesisAppState } from './application';
import { missingPrivateData, type NodeTls, PrivateDataClient, type PrivateDataPeer } from './private-data';
import { cometbftBinary, PROJECT_DIR } from './binary';
import { cometRpc } from './rpc';

const run = promisify(execFile);

/** The organisation each validator is run by, in order: `--validators N` takes the first N. */
const VALIDATOR_NAMES: Readonly<Record<string, string>> = {
    CustomsMSP: 'customs', CommerceMSP: 'commerce', TaxMSP: 'tax', ForexMSP: 'forex', InspectionMSP: 'inspection',
};

export interface NetworkNode {
    readonly name: string;
    readonly mspId: string;
    /** CometBFT's peer-to-peer and RPC ports, the ABCI application's, and the private data channel's (HTTPS, mutual TLS). */
    readonly ports: { readonly p2p: number; readonly rpc: number; readonly abci: number; readonly private: number };
    /** The node's own database on the network's PostgreSQL server. */
    readonly database: string;
}

/** What `network up` decided once, kept in `<dir>/network.json`. */
export interface NetworkLayout {
    readonly chainId: string;
    readonly nodes: readonly NetworkNode[];
    /** The PostgreSQL server the nodes' databases live on: the network's own (a port) or one given. */
    readonly postgres: { readonly port?: number; readonly url?: string };
    readonly timeoutCommit: string;
    readonly timestampToleranceMs: number;
}

export type NetworkOptions = Readonly<{
    /** The network's folder: keys, configuration, block stores, logs (and its PostgreSQL, unless one is given). */
    dir: string;
    /** Validators, one per agency in the order customs, commerce, tax, forex, inspection (1 to 5; default 5). */
    validators?: number;
    /** A PostgreSQL server to create the nodes' databases on, instead of the network's own. */
    postgresUrl?: string;
    /** How long a validator waits after a commit before the next height (CometBFT's timeout_commit). */
    timeoutCommit?: string;
    /** How far a proposal's time may lie from its block's (default 30 s). */
    timestampToleranceMs?: number;
    log?: (message: string) => void;
}>;

const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
const READY_WITHIN_MS = 120_000;

const layoutFile = (dir: string): string => join(dir, 'network.json');
const nodeDir = (dir: string, name: string): string => join(dir, 'nodes', name);
const cometHome = (dir: string, name: string): string => join(nodeDir(dir, name), 'cometbft');
const pidFile = (dir: string, name: string, part: NodePart): string => join(nodeDir(dir, name), `${part}.pid`);
export const logFile = (dir: string, name: string, part: NodePart): string => join(nodeDir(dir, name), `${part}.log`);
/**
 * Where an organisation's certificate authority key is kept, sealed with a key-encryption key of
 * that place: in the folder of the node its organisation runs (customs' also holds the
 * enterprises' authority, as the E-Port does), or, for an organisation that runs no validator of
 * this network (a network of fewer than five), in `organisations/`.
 */
const keyHome = (dir: string, host: string | undefined): string => (host ? nodeDir(dir, host) : join(dir, 'organisations'));
const authorityFile = (home: string, mspId: string): string => join(home, 'authorities', `${mspId}.json`);
const keyEncryptionKeyFile = (home: string): string => join(home, 'key-encryption-key');

/** The node whose folder holds an organisation's authority key, if the network has one for it. */
export function hostOf(layout: NetworkLayout, mspId: string): NetworkNode | undefined {
    return layout.nodes.find((node) => node.mspId === (mspId === ENTERPRISES_MSP ? 'CustomsMSP' : mspId));
}

export type NodePart = 'node' | 'cometbft';

export async function readLayout(dir: string): Promise<NetworkLayout | undefined> {
    const text = await readFile(layoutFile(resolve(dir)), 'utf8').catch(() => undefined);
    return text ? JSON.parse(text) as NetworkLayout : undefined;
}

/** The connection string of the PostgreSQL server the network's databases are on. */
async function serverUrl(dir: string, layout: NetworkLayout): Promise<string> {
    return layout.postgres.url ?? embeddedServerUrl(join(dir, 'postgres', 'data'), layout.postgres.port as number);
}

/** A node's database connection string. */
export async function nodeDatabaseUrl(dir: string, layout: NetworkLayout, name: string): Promise<string> {
    const node = layout.nodes.find((candidate) => candidate.name === name);
    if (!node) {
        throw new Error(`the network in ${dir} has no node ${name} (it has ${layout.nodes.map((candidate) => candidate.name).join(', ')})`);
    }
    const url = new URL(await serverUrl(dir, layout));
    url.pathname = `/${node.database}`;
    return url.toString();
}

export const rpcUrl = (node: NetworkNode): string => `http://127.0.0.1:${node.ports.rpc}`;
export const privateDataUrl = (node: NetworkNode): string => `https://127.0.0.1:${node.ports.private}`;
const tlsFiles = (dir: string, name: string): { certificate: string; privateKey: string } => ({
    certificate: join(nodeDir(dir, name), 'tls', 'node.crt'), privateKey: join(nodeDir(dir, name), 'tls', 'node.key'),
});
const peersFile = (dir: string, name: string): string => join(nodeDir(dir, name), 'private-data-peers.json');

/** A node's TLS identity (its organisation's certificate for it) and the other nodes' private data channels. */
export async function nodeChannel(dir: string, name: string): Promise<{ tls: NodeTls; peers: PrivateDataPeer[] }> {
    const files = tlsFiles(resolve(dir), name);
    try {
        return {
            tls: { certificate: await readFile(files.certificate, 'utf8'), privateKey: await readFile(files.privateKey, 'utf8') },
            peers: JSON.parse(await readFile(peersFile(resolve(dir), name), 'utf8')) as PrivateDataPeer[],
        };
    } catch (error) {
        throw new Error(`${nodeDir(resolve(dir), name)} holds no TLS identity for the private data channel (${(error as Error).message}): is ${name} a node of this network, made by this version?`, { cause: error });
    }
}

/**
 * A private data channel presenting a node's certificate, trusting the roots of the network's
 * organisations (from the node's genesis file): its own gateway's channel to the network.
 */
export async function nodePrivateDataClient(dir: string, name: string): Promise<PrivateDataClient> {
    const { tls, peers } = await nodeChannel(dir, name);
    const genesis = JSON.parse(await readFile(join(cometHome(resolve(dir), name), 'config', 'genesis.json'), 'utf8')) as { app_state: GenesisAppState };
    return new PrivateDataClient(tls, genesis.app_state.config.organisations.map((organisation) => organisation.rootCertificate), peers);
}

/**
 * Brings the network up: on first use builds cometbft (if needed), makes each organisation's
 * certificate authority, each validator's keys and one genesis file naming every validator with
 * equal power and, as its app_state, block 0's configuration (organisations' root certificates,
 * collections, the timestamp tolerance); then starts whatever of PostgreSQL and each node's two
 * processes is not running, and waits until every node has committed a block. Running it again
 * is harmless; if it fails, it stops what it started.
 */
export async function networkUp(options: NetworkOptions): Promise<NetworkLayout> {
    const dir = resolve(options.dir);
    const log = options.log ?? (() => undefined);
    const binary = await cometbftBinary(log);
    let layout = await readLayout(dir);
    if (layout && options.validators !== undefined && options.validators !== layout.nodes.length) {
        throw new Error(`the network in ${dir} has ${layout.nodes.length} validators, not ${options.validators}; run clean first to make another`);
    }
    if (layout && layout.nodes.some((node) => node.ports.private === undefined)) {
        throw new Error(`the network in ${dir} was made by an earlier version, without private data channels: run clean, then up, to make it again`);
    }
    const createdNow = !layout;
    layout ??= await createNetwork(dir, binary, options, log);
    try {
        await startPostgres(dir, layout, log);
        for (const node of layout.nodes) {
            await startNode(dir, layout, node.name, log);
        }
        await untilCommitting(dir, layout, layout.nodes.map((node) => node.name));
    } catch (error) {
        await networkDown(dir).catch(() => undefined);
        if (createdNow) {
            log(`network up failed; its folder ${dir} is kept for its logs`);
        }
        throw error;
    }
    return layout;
}

async function createNetwork(dir: string, binary: string, options: NetworkOptions, log: (message: string) => void): Promise<NetworkLayout> {
    const count = options.validators ?? 5;
    if (!Number.isInteger(count) || count < 1 || count > AGENCIES.length) {
        throw new Error(`--validators must be a whole number from 1 to ${AGENCIES.length} (one validator per agency)`);
    }
    await rm(join(dir, 'nodes'), { recursive: true, force: true });
    await rm(join(dir, 'organisations'), { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const chainId = `counterfoil-${createHash('sha256').update(dir).update(String(Date.now())).digest('hex').slice(0, 8)}`;
    const tag = chainId.slice('counterfoil-'.length);
    const nodes: NetworkNode[] = [];
    for (const mspId of AGENCIES.slice(0, count)) {
        const name = VALIDATOR_NAMES[mspId] as string;
        nodes.push({ name, mspId, ports: { p2p: await freePort(), rpc: await freePort(), abci: await freePort(), private: await freePort() }, database: `counterfoil_${tag}_${name}` });
    }
    const layout: NetworkLayout = {
        chainId, nodes,
        postgres: options.postgresUrl ? { url: options.postgresUrl } : { port: await freePort() },
        timeoutCommit: options.timeoutCommit ?? '100ms',
        timestampToleranceMs: options.timestampToleranceMs ?? 30_000,
    };
    log(`creating a ${count}-validator network ${chainId} in ${dir}`);
    // Each organisation's certificate authority: its root certificate goes into genesis, its key
    // only into the folder of the organisation's own node, sealed with that node's key-encryption key.
    const organisations = [...AGENCIES, ENTERPRISES_MSP];
    const authorities = await Promise.all(organisations.map((mspId) => MembershipAuthority.create(mspId)));
    for (const authority of authorities) {
        const home = keyHome(dir, hostOf(layout, authority.mspId)?.name);
        const keys = await KeySealer.open(keyEncryptionKeyFile(home));
        await mkdir(join(home, 'authorities'), { recursive: true, mode: 0o700 });
        await writeFile(authorityFile(home, authority.mspId), JSON.stringify({
            mspId: authority.mspId, certificate: authority.record.certificate, privateKey: keys.seal(authority.record.privateKey, `authority:${authority.mspId}`),
        }, null, 2), { mode: 0o600 });
    }
    // Each node's TLS identity for the private data channel, issued by its own organisation, and
    // where the other nodes' channels are.
    const peers: PrivateDataPeer[] = nodes.map((node) => ({ name: node.name, mspId: node.mspId, url: privateDataUrl(node) }));
    for (const node of nodes) {
        const authority = authorities.find((candidate) => candidate.mspId === node.mspId) as MembershipAuthority;
        const tls = await authority.issueNode(`${node.name}.node`, ['127.0.0.1', 'localhost']);
        await mkdir(join(nodeDir(dir, node.name), 'tls'), { recursive: true, mode: 0o700 });
        await writeFile(tlsFiles(dir, node.name).certificate, tls.certificate);
        await writeFile(tlsFiles(dir, node.name).privateKey, tls.privateKey, { mode: 0o600 });
        await writeFile(peersFile(dir, node.name), JSON.stringify(peers, null, 2));
    }
    const identities: { address: string; pubKey: unknown; nodeId: string }[] = [];
    for (const node of nodes) {
        const home = cometHome(dir, node.name);
        await run(binary, ['init', '--home', home]);
        const key = JSON.parse(await readFile(join(home, 'config', 'priv_validator_key.json'), 'utf8')) as { address: string; pub_key: unknown };
        const nodeId = (await run(binary, ['show-node-id', '--home', home])).stdout.trim();
        identities.push({ address: key.address, pubKey: key.pub_key, nodeId });
    }
    const template = JSON.parse(await readFile(join(cometHome(dir, nodes[0]?.name as string), 'config', 'genesis.json'), 'utf8')) as Record<string, unknown>;
    const appState: GenesisAppState = {
        config: {
            channel: 'tradehub',
            chaincode: 'counterfoil',
            organisations: authorities.map((authority) => ({ mspId: authority.mspId, rootCertificate: authority.record.certificate })),
            collections: Object.entries(CONTENT_COLLECTIONS).map(([name, members]) => ({ name, members: [...members] })),
            consensus: { engine: 'cometbft', chainId, timestampToleranceMs: layout.timestampToleranceMs, maxTransactionBytes: MAX_TRANSACTION_BYTES },
        },
    };
    const genesis = {
        ...template,
        genesis_time: new Date().toISOString(),
        chain_id: chainId,
        initial_height: '1',
        // Equal voting power: any one validator down, the others (more than two thirds) commit.
        validators: nodes.map((node, index) => ({ address: identities[index]?.address, pub_key: identities[index]?.pubKey, power: '10', name: node.name })),
        app_hash: '',
        app_state: appState,
    };
    for (const [index, node] of nodes.entries()) {
        const home = cometHome(dir, node.name);
        await writeFile(join(home, 'config', 'genesis.json'), JSON.stringify(genesis, null, 2));
        const peers = nodes.filter((_, other) => other !== index).map((peer) => `${identities[nodes.indexOf(peer)]?.nodeId}@127.0.0.1:${peer.ports.p2p}`).join(',');
        await configureCometbft(join(home, 'config', 'config.toml'), {
            proxyApp: `tcp://127.0.0.1:${node.ports.abci}`, moniker: node.name, ports: node.ports, peers, timeoutCommit: layout.timeoutCommit,
        });
    }
    await writeFile(layoutFile(dir), JSON.stringify(layout, null, 2), { mode: 0o600 });
    return layout;
}

/** What a validator's config.toml is given over what `cometbft init` wrote. */
export interface CometbftSettings {
    /** `tcp://127.0.0.1:PORT` of the ABCI application, or the name of a built-in one (`kvstore`). */
    readonly proxyApp: string;
    readonly moniker?: string;
    readonly ports: { readonly p2p: number; readonly rpc: number };
    /** `id@host:port` of every other validator, comma-separated. */
    readonly peers: string;
    readonly timeoutCommit: string;
    readonly logLevel?: string;
}

/** Sets a validator's addresses, peers, mempool and consensus timing in the config.toml `cometbft init` wrote. */
export async function configureCometbft(file: string, settings: CometbftSettings): Promise<void> {
    let section = '';
    const lines = (await readFile(file, 'utf8')).split('\n').map((line) => {
        const header = /^\[([^\]]+)\]/.exec(line);
        if (header) {
            section = header[1] as string;
            return line;
        }
        const set = (key: string, value: string): string | undefined => (new RegExp(`^${key}\\s*=`).test(line) ? `${key} = ${value}` : undefined);
        return (section === '' && (set('proxy_app', `"${settings.proxyApp}"`) ?? (settings.moniker ? set('moniker', `"${settings.moniker}"`) : undefined)
                ?? set('log_level', `"${settings.logLevel ?? 'info'}"`)))
            || (section === 'rpc' && (set('laddr', `"tcp://127.0.0.1:${settings.ports.rpc}"`) ?? set('max_body_bytes', String(MAX_TRANSACTION_BYTES * 2 + 1_000_000))))
            // Validators a few milliseconds apart: messages go out at once rather than batched for 100 ms.
            || (section === 'p2p' && (set('laddr', `"tcp://127.0.0.1:${settings.ports.p2p}"`) ?? set('persistent_peers', `"${settings.peers}"`)
                ?? set('addr_book_strict', 'false') ?? set('allow_duplicate_ip', 'true') ?? set('pex', 'false') ?? set('flush_throttle_timeout', '"10ms"')))
            || (section === 'mempool' && (set('max_tx_bytes', String(MAX_TRANSACTION_BYTES)) ?? set('max_txs_bytes', String(256 * 1024 * 1024))))
            || (section === 'consensus' && (set('timeout_commit', `"${settings.timeoutCommit}"`) ?? set('create_empty_blocks_interval', '"5s"')
                ?? set('peer_gossip_sleep_duration', '"10ms"')))
            // Counterfoil indexes its own transactions; CometBFT's index would be a second copy.
            || (section === 'tx_index' && set('indexer', '"null"'))
            || line;
    });
    await writeFile(file, lines.join('\n'));
}

async function startPostgres(dir: string, layout: NetworkLayout, log: (message: string) => void): Promise<void> {
    if (layout.postgres.port !== undefined && !(await embeddedPostgresRunning(join(dir, 'postgres', 'data')))) {
        // As root, PostgreSQL runs as its own user, which must be able to pass through the folder
        // (not read it: its keys stay mode 0600).
        await chmod(dir, (await stat(dir)).mode | 0o011);
        await mkdir(join(dir, 'postgres'), { recursive: true, mode: 0o755 });
        await startEmbeddedPostgres({ dataDir: join(dir, 'postgres', 'data'), port: layout.postgres.port, detachedLogFile: join(dir, 'postgres', 'postgres.log') });
        log(`PostgreSQL listening on 127.0.0.1:${layout.postgres.port}`);
    }
    const url = await serverUrl(dir, layout);
    for (const node of layout.nodes) {
        await createDatabase(url, node.database);
    }
}

/** Starts a node's Counterfoil process, then its cometbft, unless they run already. */
export async function startNode(dir: string, layout: NetworkLayout, name: string, log: (message: string) => void = () => undefined): Promise<void> {
    const node = layout.nodes.find((candidate) => candidate.name === name);
    if (!node) {
        throw new Error(`the network has no node ${name}`);
    }
    if (!(await running(dir, name, 'node'))) {
        // A cometbft whose application died stops its services, and may linger without exiting
        // (SIGTERM unanswered): of no use without its application, it is stopped and started again with it.
        await stopProcess(dir, name, 'cometbft', 'SIGTERM', 5_000);
        const database = await nodeDatabaseUrl(dir, layout, name);
        // The database's address (and password) goes in the environment, which other users cannot read, not the command line.
        await spawnDetached(dir, name, 'node', process.execPath, [
            join(PROJECT_DIR, 'dist', 'scripts', 'node.js'), '--abci', `tcp://127.0.0.1:${node.ports.abci}`, '--organisation', node.mspId,
            '--private-data', `127.0.0.1:${node.ports.private}`, '--node-dir', nodeDir(dir, name), '--name', name,
        ], { COUNTERFOIL_NODE_DATABASE_URL: database });
        await untilListening(dir, name, node.ports.abci);
        log(`${name}: Counterfoil node listening for ABCI on 127.0.0.1:${node.ports.abci}`);
    }
    if (!(await running(dir, name, 'cometbft'))) {
        await spawnDetached(dir, name, 'cometbft', await cometbftBinary(log), ['start', '--home', cometHome(dir, name)]);
        log(`${name}: cometbft started (RPC ${rpcUrl(node)})`);
    }
}

/** Stops a node's processes: SIGTERM, or SIGKILL to simulate a crash. */
export async function stopNode(dir: string, name: string, options: Readonly<{ parts?: readonly NodePart[]; signal?: NodeJS.Signals }> = {}): Promise<void> {
    for (const part of options.parts ?? ['cometbft', 'node'] as const) {
        await stopProcess(dir, name, part, options.signal ?? 'SIGTERM');
    }
}

/**
 * Rebuilds a node's state from the chain: its database emptied, its cometbft's state rolled back
 * one height (a node that computed a wrong app hash committed it at its last height, and stalls
 * at the next); on restart CometBFT replays every block to the node's application from block 1.
 */
export async function rebuildNode(dir: string, layout: NetworkLayout, name: string, log: (message: string) => void = () => undefined): Promise<void> {
    const node = layout.nodes.find((candidate) => candidate.name === name);
    if (!node) {
        throw new Error(`the network has no node ${name}`);
    }
    await stopNode(dir, name);
    await run(await cometbftBinary(log), ['rollback', '--home', cometHome(dir, name)]);
    const url = await serverUrl(dir, layout);
    await dropDatabase(url, node.database);
    await createDatabase(url, node.database);
    log(`${name}: database emptied and state rolled back one height; replaying the chain`);
    await startNode(dir, layout, name, log);
}

/** Stops every process of the network (PostgreSQL last); keeps its data. */
export async function networkDown(dir: string): Promise<void> {
    dir = resolve(dir);
    const layout = await readLayout(dir);
    if (!layout) {
        return;
    }
    await Promise.all(layout.nodes.map((node) => stopNode(dir, node.name)));
    if (layout.postgres.port !== undefined) {
        await stopEmbeddedPostgres(join(dir, 'postgres', 'data'));
    }
}

/** Stops the network and removes its folder (and its databases, on a server it was given). */
export async function networkClean(dir: string): Promise<void> {
    dir = resolve(dir);
    const layout = await readLayout(dir);
    await networkDown(dir);
    if (layout?.postgres.url) {
        for (const node of layout.nodes) {
            await dropDatabase(layout.postgres.url, node.database).catch(() => undefined);
        }
    }
    await rm(dir, { recursive: true, force: true });
}

export interface NodeStatus {
    readonly name: string;
    readonly mspId: string;
    readonly processes: Readonly<Record<NodePart, number | undefined>>;
    readonly rpc: string;
    readonly height?: number;
    readonly appHash?: string;
    readonly lastBlockTime?: string;
    readonly catchingUp?: boolean;
    readonly peers?: number;
    /** Private data items the node should hold (its organisation is in their collection) but has not received yet. */
    readonly missingPrivateData?: number;
    readonly problem?: string;
}

/**
 * Each node's processes; from its RPC, its height, app hash, last block time and peers; and from
 * its database, how many private data items it still misses.
 */
export async function networkStatus(dir: string): Promise<NodeStatus[]> {
    dir = resolve(dir);
    const layout = await readLayout(dir);
    if (!layout) {
        throw new Error(`there is no network in ${dir}: run network up`);
    }
    return Promise.all(layout.nodes.map(async (node) => {
        const processes = { node: await running(dir, node.name, 'node'), cometbft: await running(dir, node.name, 'cometbft') };
        let missingPrivate: number | undefined;
        const pool = new Pool({ connectionString: await nodeDatabaseUrl(dir, layout, node.name), max: 1 });
        pool.on('error', () => undefined);
        try {
            missingPrivate = await missingPrivateData(pool);
        } catch {
            // the database is down, or the node has not made its tables yet
        } finally {
            await pool.end();
        }
        try {
            const status = await rpc<{ sync_info: { latest_block_height: string; latest_app_hash: string; latest_block_time: string; catching_up: boolean } }>(node, 'status');
            const net = await rpc<{ n_peers: string }>(node, 'net_info');
            return {
                name: node.name, mspId: node.mspId, processes, rpc: rpcUrl(node),
                height: Number(status.sync_info.latest_block_height), appHash: status.sync_info.latest_app_hash,
                lastBlockTime: status.sync_info.latest_block_time, catchingUp: status.sync_info.catching_up, peers: Number(net.n_peers),
                missingPrivateData: missingPrivate,
            };
        } catch (error) {
            return { name: node.name, mspId: node.mspId, processes, rpc: rpcUrl(node), missingPrivateData: missingPrivate, problem: (error as Error).message };
        }
    }));
}

function rpc<T>(node: NetworkNode, method: string): Promise<T> {
    return cometRpc<T>(rpcUrl(node), method);
}

/** Waits until each named node's cometbft has committed a block and is not catching up. */
export async function untilCommitting(dir: string, layout: NetworkLayout, names: readonly string[], minimumHeight = 1): Promise<void> {
    const deadline = Date.now() + READY_WITHIN_MS;
    for (const name of names) {
        const node = layout.nodes.find((candidate) => candidate.name === name) as NetworkNode;
        for (;;) {
            for (const part of ['node', 'cometbft'] as const) {
                if (!(await running(dir, name, part))) {
                    throw new Error(`${name}'s ${part} process stopped:\n${await tail(logFile(dir, name, part))}`);
                }
            }
            const status = await rpc<{ sync_info: { latest_block_height: string; catching_up: boolean } }>(node, 'status').catch(() => undefined);
            if (status && Number(status.sync_info.latest_block_height) >= minimumHeight && !status.sync_info.catching_up) {
                break;
            }
            if (Date.now() > deadline) {
                throw new Error(`${name} did not commit a block within ${READY_WITHIN_MS / 1000} s:\n${await tail(logFile(dir, name, 'cometbft'))}`);
            }
            await new Promise((resolveWait) => setTimeout(resolveWait, 200));
        }
    }
}

/** The last lines of a log. */
export async function tail(file: string, lines = 40): Promise<string> {
    const text = await readFile(file, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines - 1).join('\n');
}

async function spawnDetached(dir: string, name: string, part: NodePart, command: string, args: readonly string[], environment: NodeJS.ProcessEnv = {}): Promise<void> {
    await mkdir(nodeDir(dir, name), { recursive: true });
    const out = openSync(logFile(dir, name, part), 'a');
    try {
        // A process group of its own, so that it outlives `network up` and its whole group is stopped together.
        const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], cwd: PROJECT_DIR, env: { ...process.env, ...environment } });
        const pid = child.pid;
        if (pid === undefined) {
            throw new Error(`${name}'s ${part} process could not be started (${command})`);
        }
        child.unref();
        await writeFile(pidFile(dir, name, part), `${pid}\n${command}\n`);
    } finally {
        closeSync(out);
    }
}

/** The pid of a node's process when it is running (its pid file names a live process that is still it). */
export async function running(dir: string, name: string, part: NodePart): Promise<number | undefined> {
    const text = await readFile(pidFile(dir, name, part), 'utf8').catch(() => undefined);
    const [pidText, command] = text?.split('\n') ?? [];
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 0) {
        return undefined;
    }
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const argv = commandLine.split('\0');
    const marker = part === 'node' ? 'node.js' : cometHome(dir, name);
    return argv[0] === command && argv.some((arg) => arg.endsWith(marker)) ? pid : undefined;
}

/** Sends the signal to a node's process group, and SIGKILL if it has not exited after `graceMs`. */
async function stopProcess(dir: string, name: string, part: NodePart, signal: NodeJS.Signals, graceMs = 20_000): Promise<void> {
    const pid = await running(dir, name, part);
    if (pid === undefined) {
        return;
    }
    const send = (which: NodeJS.Signals): void => {
        try {
            process.kill(-pid, which);
        } catch {
            // already gone
        }
    };
    send(signal);
    const deadline = Date.now() + graceMs;
    while (await running(dir, name, part) !== undefined || processAlive(pid)) {
        if (Date.now() > deadline && signal !== 'SIGKILL') {
            send('SIGKILL');
        }
        await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
}

async function untilListening(dir: string, name: string, port: number): Promise<void> {
    const deadline = Date.now() + READY_WITHIN_MS;
    for (;;) {
        const open = await new Promise<boolean>((resolveOpen) => {
            const socket = connect(port, '127.0.0.1');
            socket.once('connect', () => { socket.destroy(); resolveOpen(true); });
            socket.once('error', () => resolveOpen(false));
        });
        if (open) {
            return;
        }
        if (!(await running(dir, name, 'node')) || Date.now() > deadline) {
            throw new Error(`${name}'s Counterfoil node did not start:\n${await tail(logFile(dir, name, 'node'))}`);
        }
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
}

/**
 * The certificate authorities a node's party holds: its own organisation's (and, at customs, the
 * enterprises'), from the node's folder. Principals of any other organisation are enrolled by
 * their own agency's node, never here.
 */
export async function nodeEnrolment(dir: string, name: string): Promise<AuthorityEnrolment> {
    const home = keyHome(resolve(dir), name);
    const files = (await readdir(join(home, 'authorities')).catch(() => [])).filter((file) => file.endsWith('.json'));
    if (files.length === 0) {
        throw new Error(`${join(home, 'authorities')} holds no certificate authority: is ${name} a node of the network in ${dir}?`);
    }
    const keys = await KeySealer.open(keyEncryptionKeyFile(home));
    return new AuthorityEnrolment(new Map(await Promise.all(files.map(async (file) => {
        const mspId = file.slice(0, -'.json'.length);
        return [mspId, await readAuthority(home, mspId, keys)] as const;
    }))), keys);
}

/**
 * Every organisation's certificate authority, gathered from every node's folder: for a party that
 * plays all of them on one machine (the tests, the benchmark), never for a gateway.
 */
export async function everyOrganisationEnrolment(dir: string, layout: NetworkLayout): Promise<AuthorityEnrolment> {
    dir = resolve(dir);
    const authorities = new Map<string, MembershipAuthority>();
    let sealer: KeySealer | undefined;
    for (const mspId of [...AGENCIES, ENTERPRISES_MSP]) {
        const home = keyHome(dir, hostOf(layout, mspId)?.name);
        const keys = await KeySealer.open(keyEncryptionKeyFile(home));
        sealer ??= keys;
        authorities.set(mspId, await readAuthority(home, mspId, keys));
    }
    return new AuthorityEnrolment(authorities, sealer as KeySealer);
}

async function readAuthority(home: string, mspId: string, keys: KeySealer): Promise<MembershipAuthority> {
    const stored = JSON.parse(await readFile(authorityFile(home, mspId), 'utf8')) as { certificate: string; privateKey: string };
    return MembershipAuthority.fromRecord({ mspId, certificate: stored.certificate, privateKey: keys.unseal(stored.privateKey, `authority:${mspId}`) });
}
