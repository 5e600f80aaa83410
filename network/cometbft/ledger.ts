import { Comet38Client } from '@cosmjs/tendermint-rpc';
import type { Pool } from 'pg';
import { verifyChain, type ChainReport } from '../audit/chain';
import { type ConsensusSource, rpcConsensusSource } from '../audit/consensus';
import { loadChaincode } from '../execution/chaincode-runtime';
import { type ChaincodeRuntime, endorse, type Endorser, type SignedProposal } from '../execution/execute';
import {
    type Checkpoint, type CloseableAsyncIterable, CommitError, type Committed, endorseErrorFrom, type Enrolment, type LedgerBlock, LedgerError, type LedgerEvent,
    type ConsensusStatus, type LedgerHistory, type LedgerInfo, type LedgerIntegrity, type PartyLedger, type TransactionRequest,
} from '../ledger';
import type { Block, BlockData, ChannelConfig, ConsensusConfig } from '../storage/blocks';
import { CommitListener } from '../storage/commit-listener';
import { blockSummaries, ledgerEvents, readBlocks } from '../storage/reader';
import { LedgerStore, parseBlockData } from '../storage/store';
import type { Simulation } from '../execution/stub';
import { TX_CODES } from './execution';
import type { PrivateDataClient } from './private-data';
import { cometRpc } from './rpc';
import { decodeEnvelope, encodeEnvelope, ProposalRules } from './transactions';

export type NetworkLedgerOptions = Readonly<{
    /** The node's own database, which its Counterfoil process writes and this reads. */
    pool: Pool;
    /** The node's CometBFT RPC, e.g. http://127.0.0.1:26657. */
    rpcUrl: string;
    /** The certificate authorities this party enrols its principals with. */
    enrolment: Enrolment;
    /** How long a submit waits for its transaction to be committed before it fails (default 60 s). */
    commitTimeoutMs?: number;
    /** How long a submit waits before broadcasting its transaction again, in case a mempool lost it (default 5 s). */
    rebroadcastMs?: number;
    chaincodeLogLevel?: string;
    /** Ends the pool when the ledger closes (the pool was made for it). */
    ownsPool?: boolean;
    /**
     * The private data channel to the network's nodes, over which confidential content goes to
     * the members of its collection before its transaction is broadcast (closed with the ledger).
     * Without it, transactions that write private data are refused.
     */
    privateData?: PrivateDataClient;
}>;

/** Committed blocks whose parsed data a ledger keeps for the transactions it waits for. */
const RECENT_BLOCKS = 16;

const CHECK_TX_ERRORS: Readonly<Record<number, { code: LedgerError['code']; field: string }>> = {
    [TX_CODES.MALFORMED]: { code: 'INVALID_ARGUMENT', field: 'transaction' },
    [TX_CODES.BAD_CREATOR_SIGNATURE]: { code: 'UNAUTHENTICATED', field: 'identity' },
    [TX_CODES.TIMESTAMP_OUT_OF_RANGE]: { code: 'INVALID_ARGUMENT', field: 'timestamp' },
    [TX_CODES.DUPLICATE_TXID]: { code: 'CONFLICT', field: 'transactionId' },
    [TX_CODES.BAD_PROPOSAL]: { code: 'INVALID_ARGUMENT', field: 'transaction' },
    [TX_CODES.TOO_LARGE]: { code: 'INVALID_ARGUMENT', field: 'transaction' },
    [TX_CODES.UNAVAILABLE]: { code: 'UNAVAILABLE', field: 'ledger' },
};

/**
 * A party's connection to a CometBFT network through one node: it reads the node's database
 * (committed state, blocks, events), simulates each call there first so that a refusal comes
 * back at once without reaching the chain (as a Fabric endorsement would), then broadcasts the
 * signed proposal and resolves only once the transaction is in a committed block: an accepted
 * broadcast is not yet inclusion. The block's verdict is final.
 */
export class NetworkLedger implements PartyLedger {
    private constructor(
        private readonly store: LedgerStore,
        private readonly listener: CommitListener,
        /** Who waits for which transaction: one reader of new blocks wakes each when its block is committed. */
        private readonly confirmations: Confirmations,
        private readonly client: Comet38Client,
        /** What block 0 says: the configuration, and the roots and collections derived from it. */
        private readonly rules: ProposalRules,
        private readonly chaincode: ChaincodeRuntime,
        readonly enrolment: Enrolment,
        private readonly chain: ChainReport,
        private readonly settings: { commitTimeoutMs: number; rebroadcastMs: number; pool?: Pool; rpcUrl: string; privateData?: PrivateDataClient },
        /** The validators' names, from genesis (CometBFT's validator set names none). */
        private readonly validatorNames: readonly string[],
    ) {}

    static async open(options: NetworkLedgerOptions): Promise<NetworkLedger> {
        options.pool.on('error', () => undefined);
        const store = new LedgerStore(options.pool, 'counterfoil');
        const [genesis] = await store.blocks(0, 1).catch((error: Error) => {
            throw new LedgerError({ code: 'UNAVAILABLE', field: 'ledger', message: `the node's database cannot be read: ${error.message}`, cause: error });
        });
        const data = genesis ? parseBlockData(genesis.data) : undefined;
        if (!data || data.kind !== 'config' || !data.config.consensus) {
            throw new LedgerError({ code: 'UNAVAILABLE', field: 'ledger', message: 'the node has no network configuration yet (block 0): is the network up?' });
        }
        const config = data.config as ChannelConfig & { consensus: ConsensusConfig };
        const listener = await CommitListener.open(options.pool);
        const client = await Comet38Client.connect(options.rpcUrl);
        const chain = await verifyChain(store);
        const last = await store.lastBlock();
        const confirmations = new Confirmations((from) => readBlocks(store, listener, from), (last?.number ?? 0) + 1);
        return new NetworkLedger(store, listener, confirmations, client, new ProposalRules(config), loadChaincode({ logLevel: options.chaincodeLogLevel ?? 'CRITICAL' }), options.enrolment, chain, {
            commitTimeoutMs: options.commitTimeoutMs ?? 60_000, rebroadcastMs: options.rebroadcastMs ?? 5_000, pool: options.ownsPool ? options.pool : undefined, rpcUrl: options.rpcUrl,
            privateData: options.privateData,
        }, await genesisValidators(options.rpcUrl));
    }

    get history(): LedgerHistory {
        return this.store;
    }

    /** The network's configuration, as block 0 holds it. */
    get configuration(): ChannelConfig & { readonly consensus: ConsensusConfig } {
        return this.config;
    }

    private get config(): ChannelConfig & { readonly consensus: ConsensusConfig } {
        return this.rules.config;
    }

    integrity(): LedgerIntegrity {
        return { verified: this.chain.problems.length === 0, blocks: this.chain.blocks, problems: this.chain.problems };
    }

    async submit(request: TransactionRequest): Promise<Committed> {
        const { signed, simulation } = await this.endorse(request);
        await this.sendPrivateData(signed.transactionId, simulation);
        const bytes = encodeEnvelope({ proposal: signed.proposal, signature: signed.signature.toString('base64') });
        return this.broadcastAndConfirm(signed.transactionId, bytes);
    }

    /**
     * Sends each value the transaction writes to a collection to the nodes of that collection's
     * members, and nowhere else. At least one must take it, or nothing is broadcast: a member that
     * missed it fetches it from another once the block is committed, but some member must hold it.
     */
    private async sendPrivateData(transactionId: string, simulation: Simulation): Promise<void> {
        const values = simulation.privateWrites.filter((write) => write.value !== undefined);
        if (values.length === 0) {
            return;
        }
        if (!this.settings.privateData) {
            throw new LedgerError({
                code: 'UNAVAILABLE', field: 'content', transactionId,
                message: 'this connection to the network has no private data channel, so it cannot send confidential content to its collection\'s members: nothing was written',
            });
        }
        for (const write of values) {
            const organisations = this.rules.members.get(write.collection) ?? [];
            const { took, failed } = await this.settings.privateData.send(transactionId, write.collection, write.value as Buffer, organisations);
            if (took.length === 0) {
                throw new LedgerError({
                    code: 'UNAVAILABLE', field: 'content', transactionId,
                    message: `no node of the members of ${write.collection} (${organisations.join(', ')}) took the confidential content, so nothing was written: ${failed.map((failure) => `${failure.node}: ${failure.problem}`).join('; ') || 'none is known'}`,
                });
            }
        }
    }

    /**
     * Broadcasts a signed transaction and waits until a committed block holds it. It is broadcast
     * again now and then (a node that restarted lost its mempool; CometBFT drops the copy it
     * still holds), and given up when the chain has moved past the time at which it could still
     * be committed, or after the commit timeout (the chain halted).
     */
    async broadcastAndConfirm(transactionId: string, bytes: Uint8Array): Promise<Committed> {
        const envelope = decodeEnvelope(bytes);
        if (typeof envelope === 'string') {
            throw new LedgerError({ code: 'INVALID_ARGUMENT', field: 'transaction', transactionId, message: envelope });
        }
        /** Past this, no block can take it: block times only grow, and a block takes proposals within the tolerance of its time. */
        const reach = Date.parse(envelope.proposal.timestamp) + this.config.consensus.timestampToleranceMs;
        const started = Date.now();
        // Listening first, then looking: a block committed in between is seen one way or the other.
        const waiting = this.confirmations.wait(transactionId);
        try {
            let outcome = await this.committed(transactionId);
            for (let broadcasts = 0; !outcome; broadcasts++) {
                const now = Date.now();
                if (now - started > this.settings.commitTimeoutMs) {
                    throw new LedgerError({
                        code: 'UNAVAILABLE', field: 'ledger', transactionId,
                        message: `transaction ${transactionId} was not committed within ${this.settings.commitTimeoutMs / 1000} s: the network is not committing blocks (are more than a third of its validators down?)`,
                    });
                }
                if (broadcasts > 0 && await this.latestBlockTime() > reach && !(await this.committed(transactionId))) {
                    throw new LedgerError({
                        code: 'UNAVAILABLE', field: 'ledger', transactionId,
                        message: `transaction ${transactionId} was not committed, and no block can take it any more (the chain's time is past its timestamp and the tolerance of ${this.config.consensus.timestampToleranceMs / 1000} s): nothing was written; submit it again`,
                    });
                }
                await this.broadcast(transactionId, bytes, broadcasts > 0);
                outcome = await Promise.race([waiting.promise.then(() => this.committed(transactionId)), sleep(this.settings.rebroadcastMs).then(() => this.committed(transactionId))]);
            }
            return outcome;
        } finally {
            waiting.cancel();
        }
    }

    private async broadcast(transactionId: string, bytes: Uint8Array, again: boolean): Promise<void> {
        let response;
        try {
            response = await this.client.broadcastTxSync({ tx: bytes });
        } catch (error) {
            const message = (error as Error).message;
            // The node's mempool (or its cache of recent transactions) already has it.
            if (again && /already exists in cache|tx already exists/i.test(message)) {
                return;
            }
            if (again) {
                return; // the node may be restarting; the next attempt or the timeout decides
            }
            throw new LedgerError({ code: 'UNAVAILABLE', field: 'ledger', transactionId, message: `the node did not take the transaction: ${message}`, cause: error });
        }
        if (response.code !== 0) {
            if (response.code === TX_CODES.DUPLICATE_TXID) {
                return; // committed meanwhile: the next look finds it
            }
            if (again && response.code === TX_CODES.TIMESTAMP_OUT_OF_RANGE) {
                return; // it waited too long: whether a block can still take it, the chain's time decides
            }
            const mapped = CHECK_TX_ERRORS[response.code] ?? { code: 'INTERNAL' as const, field: 'transaction' };
            throw new LedgerError({ ...mapped, transactionId, message: `the node refused the transaction: ${response.log ?? `code ${response.code}`}` });
        }
    }

    /** The time of the node's latest block (CometBFT's BFT time, not any clock of this machine). */
    private async latestBlockTime(): Promise<number> {
        const status = await this.rpc<{ sync_info: { latest_block_time: string } }>('status').catch(() => undefined);
        return status ? Date.parse(status.sync_info.latest_block_time) : Number.NEGATIVE_INFINITY;
    }

    /** The committed outcome of a transaction: its result when valid, the block's verdict otherwise. */
    private async committed(transactionId: string): Promise<Committed | undefined> {
        const found = await this.store.blockOfTransaction(transactionId);
        if (!found) {
            return undefined;
        }
        const data = await this.blockData(found.blockNumber);
        const transaction = data?.kind === 'transactions' ? data.transactions.find((candidate) => candidate.transactionId === transactionId) : undefined;
        if (!transaction) {
            throw new LedgerError({ code: 'INTERNAL', transactionId, message: `block ${found.blockNumber} does not hold transaction ${transactionId} its index names` });
        }
        if (transaction.validationCode === 'CHAINCODE_REFUSED') {
            throw endorseErrorFrom(transaction.response.message ?? 'the chaincode refused the transaction', transactionId);
        }
        if (transaction.validationCode !== 'VALID') {
            throw new CommitError({ validationCode: transaction.validationCode, blockNumber: BigInt(found.blockNumber), transactionId });
        }
        return { result: Buffer.from(transaction.response.payload, 'base64'), transactionId, blockNumber: BigInt(found.blockNumber) };
    }

    /**
     * A committed block's data, read and parsed once for all the transactions of it that callers
     * wait for (the most recent blocks are kept: a committed block never changes).
     */
    private blockData(blockNumber: number): Promise<BlockData | undefined> {
        let data = this.recentBlocks.get(blockNumber);
        if (!data) {
            data = this.store.blocks(blockNumber, 1).then(([stored]) => (stored ? parseBlockData(stored.data) : undefined));
            data.catch(() => this.recentBlocks.delete(blockNumber));
            this.recentBlocks.set(blockNumber, data);
            for (const old of this.recentBlocks.keys()) {
                if (this.recentBlocks.size <= RECENT_BLOCKS) {
                    break;
                }
                this.recentBlocks.delete(old);
            }
        }
        return data;
    }

    private readonly recentBlocks = new Map<number, Promise<BlockData | undefined>>();

    async evaluate(request: TransactionRequest): Promise<Uint8Array> {
        return (await this.endorse(request)).payload;
    }

    /** Checks the caller, has it sign the proposal, and simulates it against the node's committed state. */
    private async endorse(request: TransactionRequest): Promise<{ signed: SignedProposal; payload: Uint8Array; simulation: Simulation }> {
        const { signed, response, simulation } = await endorse(this.endorser, request);
        return { signed, payload: Uint8Array.from(response.payload ?? new Uint8Array(0)), simulation };
    }

    private get endorser(): Endorser {
        this.endorsing ??= {
            authorities: this.rules.roots, target: this.config, runtime: this.chaincode, view: this.store, collections: this.rules.collections,
        };
        return this.endorsing;
    }

    private endorsing?: Endorser;

    events(options: { readonly start?: Checkpoint } = {}): CloseableAsyncIterable<LedgerEvent> {
        const start = options.start;
        if (start) {
            return ledgerEvents(this.rawBlocks(start.blockNumber), start);
        }
        // From the next block on: the tip is read first.
        let inner: CloseableAsyncIterable<LedgerEvent> | undefined;
        let closed = false;
        const store = this.store;
        const rawBlocks = (from: bigint): CloseableAsyncIterable<Block> => this.rawBlocks(from);
        async function* generate(): AsyncGenerator<LedgerEvent> {
            const last = await store.lastBlock();
            if (closed) {
                return;
            }
            const from = { blockNumber: BigInt((last?.number ?? -1) + 1) };
            inner = ledgerEvents(rawBlocks(from.blockNumber), from);
            yield* inner;
        }
        const iterator = generate();
        return { [Symbol.asyncIterator]: () => iterator, close: () => { closed = true; inner?.close(); } };
    }

    blocks(startBlock: bigint = 0n): CloseableAsyncIterable<LedgerBlock> {
        return blockSummaries(this.rawBlocks(startBlock));
    }

    /** The node's stored blocks in full, from a number on, then each one as the node commits it. */
    rawBlocks(startBlock: bigint = 0n): CloseableAsyncIterable<Block> {
        return readBlocks(this.store, this.listener, Number(startBlock));
    }

    async info(): Promise<LedgerInfo> {
        const last = await this.store.lastBlock();
        return { height: BigInt((last?.number ?? -1) + 1), currentBlockHash: last?.headerHash.toString('hex') ?? '' };
    }

    /**
     * Each validator's height as this party's node sees it: its own from its status, its peers'
     * from the consensus state it keeps of them (matched to their monikers through net_info).
     */
    async consensus(): Promise<ConsensusStatus> {
        type Status = { node_info: { moniker: string }; sync_info: { latest_block_height: string } };
        type NetInfo = { peers: { node_info: { id: string; moniker: string } }[] };
        type Dump = { peers: { node_address: string; peer_state: { round_state: { height: string } } }[] };
        const [status, net, dump] = await Promise.all([this.rpc<Status>('status'), this.rpc<NetInfo>('net_info'), this.rpc<Dump>('dump_consensus_state')]);
        const height = Number(status.sync_info.latest_block_height);
        const heights = new Map(dump.peers.map((peer) => [peer.node_address.split('@')[0] ?? '', Number(peer.peer_state.round_state.height) - 1]));
        const peers = new Map(net.peers.map((peer) => [peer.node_info.moniker, heights.get(peer.node_info.id)]));
        const validators = [status.node_info.moniker, ...this.validatorNames.filter((name) => name !== status.node_info.moniker)].map((name) => {
            const seen = name === status.node_info.moniker ? height : peers.get(name);
            return { name, height: seen, inStep: seen !== undefined && Math.abs(seen - height) <= 1 };
        });
        return { engine: 'cometbft', chainId: this.config.consensus.chainId, node: status.node_info.moniker, height, validators };
    }

    consensusSource(): ConsensusSource {
        return rpcConsensusSource(this.settings.rpcUrl);
    }

    private async rpc<T>(method: string): Promise<T> {
        return cometRpc<T>(this.settings.rpcUrl, method).catch((error: Error) => {
            throw new LedgerError({ code: 'UNAVAILABLE', field: 'ledger', message: `the node's RPC did not answer ${error.message}`, cause: error });
        });
    }

    async transaction(transactionId: string): Promise<{ blockNumber: bigint; validationCode: string } | undefined> {
        const found = await this.store.blockOfTransaction(transactionId);
        return found ? { blockNumber: BigInt(found.blockNumber), validationCode: found.validationCode } : undefined;
    }

    async close(): Promise<void> {
        this.confirmations.close();
        await this.listener.close();
        this.client.disconnect();
        this.settings.privateData?.close();
        await this.settings.pool?.end();
    }
}

/** The validators' names as the genesis file gives them. */
async function genesisValidators(rpcUrl: string): Promise<string[]> {
    const result = await cometRpc<{ genesis: { validators: { name: string }[] } }>(rpcUrl, 'genesis', 10_000).catch((error: Error) => {
        throw new LedgerError({ code: 'UNAVAILABLE', field: 'ledger', message: `the node's RPC at ${rpcUrl} does not answer: ${error.message}`, cause: error });
    });
    return result.genesis.validators.map((validator) => validator.name);
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds).unref());

/**
 * One reader of the node's new blocks for every submit waiting on this ledger: each block is read
 * and parsed once, and whoever waits for one of its transactions is woken.
 */
class Confirmations {
    private readonly waiting = new Map<string, Set<() => void>>();
    private closed = false;
    private blocks?: CloseableAsyncIterable<Block>;

    constructor(private readonly read: (from: number) => CloseableAsyncIterable<Block>, private next: number) {
        void this.follow();
    }

    private async follow(): Promise<void> {
        try {
            this.blocks = this.read(this.next);
            for await (const block of this.blocks) {
                this.next = block.header.number + 1;
                if (block.data.kind !== 'transactions') {
                    continue;
                }
                for (const transaction of block.data.transactions) {
                    for (const wake of this.waiting.get(transaction.transactionId) ?? []) {
                        wake();
                    }
                }
            }
        } catch {
            // The node's database went away: waiters look for themselves at their next rebroadcast.
            if (!this.closed) {
                setTimeout(() => void this.follow(), 1000).unref();
            }
        }
    }

    /** Resolves when a block holding the transaction is read (cancel when no longer waiting). */
    wait(transactionId: string): { promise: Promise<void>; cancel: () => void } {
        let wake!: () => void;
        const promise = new Promise<void>((resolve) => { wake = resolve; });
        const set = this.waiting.get(transactionId) ?? new Set();
        set.add(wake);
        this.waiting.set(transactionId, set);
        return {
            promise,
            cancel: () => {
                set.delete(wake);
                if (set.size === 0) {
                    this.waiting.delete(transactionId);
                }
            },
        };
    }

    close(): void {
        this.closed = true;
        this.blocks?.close();
    }
}
