import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { NetworkLedger } from '../../network/cometbft/ledger';
import {
    type NetworkLayout, networkClean, networkDown, everyOrganisationEnrolment, nodeEnrolment, nodePrivateDataClient, networkUp, nodeDatabaseUrl, rpcUrl, startNode, stopNode, untilCommitting, type NodePart,
} from '../../network/cometbft/network';
import { cometRpc } from '../../network/cometbft/rpc';
import { testServerUrl } from './postgres';

export interface TestNetwork {
    readonly dir: string;
    readonly layout: NetworkLayout;
    /**
     * A ledger connection through one node (closed with the network), enrolling principals of
     * every organisation (a test plays them all) or, with `ownOrganisation`, only the node's own.
     */
    ledger(name: string, options?: Readonly<{ commitTimeoutMs?: number; ownOrganisation?: boolean }>): Promise<NetworkLedger>;
    /** A pool on a node's own database. */
    pool(name: string): Promise<Pool>;
    kill(name: string, parts?: readonly NodePart[]): Promise<void>;
    /** Stops a node's processes the way an operator would (SIGTERM). */
    halt(name: string, parts?: readonly NodePart[]): Promise<void>;
    /** A CometBFT RPC call to a node, e.g. `num_unconfirmed_txs` or `commit?height=5`. */
    rpc<T>(name: string, call: string): Promise<T>;
    start(name: string): Promise<void>;
    untilCommitting(names: readonly string[], minimumHeight?: number): Promise<void>;
    stop(): Promise<void>;
}

/**
 * A CometBFT network for one suite, brought up by the project's own scripts (real cometbft and
 * node processes) with the nodes' databases on the tests' PostgreSQL server; `stop` removes it
 * and leaves no process behind.
 */
export async function startTestNetwork(options: Readonly<{ validators: number; timeoutCommit?: string; timestampToleranceMs?: number }>): Promise<TestNetwork> {
    const dir = await mkdtemp(join(tmpdir(), 'counterfoil-network-'));
    let layout: NetworkLayout;
    try {
        layout = await networkUp({ dir, validators: options.validators, postgresUrl: await testServerUrl(), timeoutCommit: options.timeoutCommit ?? '100ms', timestampToleranceMs: options.timestampToleranceMs });
    } catch (error) {
        await networkClean(dir).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
        throw error;
    }
    const pools: Pool[] = [];
    const ledgers: NetworkLedger[] = [];
    const pool = async (name: string): Promise<Pool> => {
        const created = new Pool({ connectionString: await nodeDatabaseUrl(dir, layout, name), max: 10 });
        // A node rebuilt has its database dropped under the pool: idle connections end, new ones follow.
        created.on('error', () => undefined);
        pools.push(created);
        return created;
    };
    return {
        dir, layout,
        async ledger(name, ledgerOptions = {}) {
            const node = layout.nodes.find((candidate) => candidate.name === name);
            if (!node) {
                throw new Error(`no node ${name}`);
            }
            const { ownOrganisation, ...rest } = ledgerOptions;
            const enrolment = ownOrganisation ? await nodeEnrolment(dir, name) : await everyOrganisationEnrolment(dir, layout);
            const ledger = await NetworkLedger.open({ pool: await pool(name), rpcUrl: rpcUrl(node), enrolment, privateData: await nodePrivateDataClient(dir, name), ...rest });
            ledgers.push(ledger);
            return ledger;
        },
        pool,
        kill: (name, parts) => stopNode(dir, name, { parts, signal: 'SIGKILL' }),
        halt: (name, parts) => stopNode(dir, name, { parts }),
        async rpc<T>(name: string, call: string): Promise<T> {
            const node = layout.nodes.find((candidate) => candidate.name === name);
            if (!node) {
                throw new Error(`no node ${name}`);
            }
            return cometRpc<T>(rpcUrl(node), call);
        },
        start: (name) => startNode(dir, layout, name),
        untilCommitting: (names, minimumHeight) => untilCommitting(dir, layout, names, minimumHeight),
        async stop() {
            for (const ledger of ledgers.splice(0)) {
                await ledger.close();
            }
            for (const created of pools.splice(0)) {
                await created.end();
            }
            if (process.env.COUNTERFOIL_KEEP_TEST_NETWORK) {
                await networkDown(dir);
                console.log(`    the network is kept in ${dir}`);
            } else {
                await networkClean(dir);
            }
        },
    };
}
