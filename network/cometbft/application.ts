import type { Pool } from 'pg';
import { CheckTxType, type Request, type RequestCheckTx, type RequestFinalizeBlock, type RequestInitChain, Response, type ExecTxResult, ResponseProcessProposal_ProposalStatus, ResponseVerifyVoteExtension_VerifyStatus } from 'cosmjs-types/tendermint/abci/types';
import { loadChaincode } from '../execution/chaincode-runtime';
import type { ChaincodeRuntime } from '../execution/execute';
import { migrate } from '../postgres';
import { type ChannelConfig, type ConsensusConfig, makeBlock } from '../storage/blocks';
import { LEDGER_MIGRATIONS } from '../storage/migrations';
import { StateCache } from '../storage/state-cache';
import { type BlockCommit, LedgerStore, parseBlockData } from '../storage/store';
import { WriterSession } from '../storage/writer-session';
import { executeBlock, TX_CODES } from './execution';
import { keepPrivateWrites } from './private-data';
import { decodeEnvelope, ProposalRules } from './transactions';

/** What `network up` puts in the genesis file's `app_state`: block 0's configuration, the same on every node. */
export interface GenesisAppState {
    readonly config: ChannelConfig & { readonly consensus: ConsensusConfig };
}

export { TX_CODES } from './execution';

type Configured = ChannelConfig & { readonly consensus: ConsensusConfig };

export type ApplicationOptions = Readonly<{
    pool: Pool;
    /** The organisation running this node: it keeps the content of the collections it is a member of. */
    organisation?: string;
    /** World-state keys kept in memory (0: none). */
    stateCacheEntries?: number;
    chaincodeLogLevel?: string;
    now?: () => Date;
    log?: (message: string) => void;
}>;

/**
 * The Counterfoil chaincode as a CometBFT application (ABCI 2.0). CometBFT orders transactions
 * into blocks; every node executes each block's transactions in order through the same
 * chaincode dispatcher and stub the embedded ledger uses, over a view of state that includes the
 * block's earlier writes. The app hash of a block is the hash of the Counterfoil block it makes
 * (its header names the previous block's hash and the hash of its data: every transaction with
 * its validation code, read-write set and result), so a node that executes differently is found
 * at the next block. The block and its state changes are written in one statement at Commit,
 * and Info reports the last block so written: after a crash CometBFT replays what is missing.
 */
export class CounterfoilApplication {
    private rules?: ProposalRules;
    private pending?: BlockCommit;
    /** The last CometBFT height committed, and the app hash answered for it. */
    private lastHeight = 0;
    private appHash = '';
    /** The last Counterfoil block: heights without transactions make none. */
    private lastBlock?: { number: number; hash: string };

    private constructor(
        private readonly pool: Pool,
        private readonly organisation: string | undefined,
        private readonly store: LedgerStore,
        private readonly session: WriterSession,
        private readonly chaincode: ChaincodeRuntime,
        private readonly now: () => Date,
        private readonly log: (message: string) => void,
    ) {}

    static async open(options: ApplicationOptions): Promise<CounterfoilApplication> {
        await migrate(options.pool, 'ledger', LEDGER_MIGRATIONS);
        options.pool.on('error', () => undefined);
        // One node process per database: the lock the embedded ledger's writer takes.
        const session = await WriterSession.open(options.pool);
        const store = new LedgerStore(options.pool, 'counterfoil', new StateCache(options.stateCacheEntries ?? 100_000));
        const application = new CounterfoilApplication(options.pool, options.organisation, store, session, loadChaincode({ logLevel: options.chaincodeLogLevel ?? 'CRITICAL' }), options.now ?? (() => new Date()), options.log ?? (() => undefined));
        await application.load();
        return application;
    }

    async close(): Promise<void> {
        await this.session.close();
    }

    private async load(): Promise<void> {
        const [genesis] = await this.store.blocks(0, 1);
        if (genesis) {
            const data = parseBlockData(genesis.data);
            if (data.kind !== 'config' || !data.config.consensus) {
                throw new Error('block 0 of this node\'s database is not a network\'s configuration');
            }
            this.rules = new ProposalRules(data.config as Configured);
        }
        const last = await this.store.lastBlock();
        this.lastBlock = last ? { number: last.number, hash: last.headerHash.toString('hex') } : undefined;
        const consensus = await this.store.consensusState();
        this.lastHeight = consensus?.height ?? 0;
        this.appHash = consensus?.appHash ?? '';
    }

    async handle(request: Request): Promise<Response> {
        if (request.echo) {
            return Response.fromPartial({ echo: { message: request.echo.message } });
        }
        if (request.flush) {
            return Response.fromPartial({ flush: {} });
        }
        if (request.info) {
            // Block 0 is made by InitChain: until block 1 is committed, CometBFT must call it.
            return Response.fromPartial({
                info: {
                    data: 'counterfoil', version: '0.1.0', appVersion: 0n, // the genesis consensus parameters' app version
                    lastBlockHeight: BigInt(this.lastHeight), lastBlockAppHash: Buffer.from(this.appHash, 'hex'),
                },
            });
        }
        if (request.initChain) {
            return Response.fromPartial({ initChain: await this.initChain(request.initChain) });
        }
        if (request.checkTx) {
            // A database that does not answer refuses the transaction for now; it does not stop the node.
            const checked = await this.checkTx(request.checkTx).catch((error: Error) => ({ code: TX_CODES.UNAVAILABLE, log: `the node could not check the transaction: ${error.message}` }));
            return Response.fromPartial({ checkTx: checked });
        }
        if (request.prepareProposal) {
            let room = Number(request.prepareProposal.maxTxBytes);
            const txs = request.prepareProposal.txs.filter((tx) => (room -= tx.length) >= 0);
            return Response.fromPartial({ prepareProposal: { txs } });
        }
        if (request.processProposal) {
            // Every transaction's fate is decided deterministically when the block executes.
            return Response.fromPartial({ processProposal: { status: ResponseProcessProposal_ProposalStatus.ACCEPT } });
        }
        if (request.extendVote) {
            return Response.fromPartial({ extendVote: { voteExtension: new Uint8Array(0) } });
        }
        if (request.verifyVoteExtension) {
            return Response.fromPartial({ verifyVoteExtension: { status: ResponseVerifyVoteExtension_VerifyStatus.ACCEPT } });
        }
        if (request.finalizeBlock) {
            return Response.fromPartial({ finalizeBlock: await this.finalizeBlock(request.finalizeBlock) });
        }
        if (request.commit) {
            await this.commit();
            return Response.fromPartial({ commit: { retainHeight: 0n } });
        }
        if (request.query) {
            return Response.fromPartial({ query: { code: 0, height: BigInt(this.lastHeight), value: Buffer.from(JSON.stringify({ height: this.lastHeight, appHash: this.appHash, block: this.lastBlock?.number })) } });
        }
        if (request.listSnapshots) {
            return Response.fromPartial({ listSnapshots: { snapshots: [] } });
        }
        if (request.offerSnapshot) {
            return Response.fromPartial({ offerSnapshot: { result: 0 } });
        }
        if (request.loadSnapshotChunk) {
            return Response.fromPartial({ loadSnapshotChunk: {} });
        }
        if (request.applySnapshotChunk) {
            return Response.fromPartial({ applySnapshotChunk: { result: 0 } });
        }
        throw new Error('an ABCI request of an unknown kind');
    }

    /** Writes block 0 from the genesis file's configuration; the same again is accepted (a restart before block 1). */
    private async initChain(request: RequestInitChain): Promise<{ appHash: Uint8Array }> {
        const state = JSON.parse(Buffer.from(request.appStateBytes).toString('utf8')) as GenesisAppState;
        if (!state.config?.consensus || state.config.consensus.chainId !== request.chainId) {
            throw new Error(`the genesis app_state is not a Counterfoil network configuration for chain ${request.chainId}`);
        }
        const genesis = makeBlock(0, '', { kind: 'config', config: state.config });
        const [stored] = await this.store.blocks(0, 1);
        if (stored && stored.headerHash.toString('hex') !== genesis.block.hash) {
            throw new Error('this node\'s database holds block 0 of another network');
        }
        if (!stored) {
            await this.store.createGenesis([], genesis);
        }
        this.rules = new ProposalRules(state.config);
        this.lastHeight = 0;
        this.lastBlock = { number: 0, hash: genesis.block.hash };
        this.appHash = genesis.block.hash;
        // The app hash is always the hash of the last Counterfoil block, block 0's to begin with.
        return { appHash: Buffer.from(genesis.block.hash, 'hex') };
    }

    private async checkTx(request: RequestCheckTx): Promise<{ code: number; log: string }> {
        const rules = this.configured();
        if (request.tx.length > rules.config.consensus.maxTransactionBytes) {
            return { code: TX_CODES.TOO_LARGE, log: `transaction: ${request.tx.length} bytes is over the network's limit of ${rules.config.consensus.maxTransactionBytes}` };
        }
        const envelope = decodeEnvelope(request.tx);
        if (typeof envelope === 'string') {
            return { code: TX_CODES.MALFORMED, log: envelope };
        }
        // When CometBFT checks a waiting transaction again after a block (RECHECK), only what can
        // have changed is checked again: one that has waited past the tolerance leaves the mempool
        // (a block would refuse it), and one whose id a block has used since. Its signature,
        // creator and shape were checked when it came in and are what they were.
        const refusal = request.type === CheckTxType.RECHECK ? rules.staleness(envelope, this.now()) : rules.refusal(envelope, this.now());
        if (refusal) {
            return { code: TX_CODES[refusal.code], log: refusal.problem };
        }
        const transactionId = ProposalRules.transactionId(envelope.proposal);
        if ((await this.store.transactionExists([transactionId])).size > 0) {
            return { code: TX_CODES.DUPLICATE_TXID, log: `transaction ${transactionId} is already committed` };
        }
        return { code: TX_CODES.VALID, log: transactionId };
    }

    private async finalizeBlock(request: RequestFinalizeBlock): Promise<{ txResults: Partial<ExecTxResult>[]; appHash: Uint8Array }> {
        const rules = this.configured();
        const height = Number(request.height);
        if (height !== this.lastHeight + 1 || !this.lastBlock) {
            throw new Error(`height ${height} follows height ${this.lastHeight}: the node's database is not where CometBFT's is`);
        }
        const time = new Date(Number(request.time.seconds) * 1000 + Math.floor(request.time.nanos / 1_000_000));
        const outcome = await executeBlock({ rules, chaincode: this.chaincode, state: this.store, committed: (ids) => this.store.transactionExists(ids), warm: true }, {
            height, time, txs: request.txs, previous: this.lastBlock,
        });
        const transactions = await keepPrivateWrites(this.pool, this.organisation, rules.members, outcome.commits);
        this.pending = outcome.made
            ? { block: outcome.made.block, bytes: outcome.made.bytes, transactions, consensus: { height, appHash: outcome.appHash } }
            // Nothing to record: the app hash stays, and CometBFT need not make a block to prove it.
            : { transactions: [], consensus: { height, appHash: this.appHash } };
        return { txResults: outcome.txResults.map((result) => ({ ...result })), appHash: Buffer.from(outcome.appHash, 'hex') };
    }

    /** Persists the finalized block with its state changes, atomically; Info reports it from now on. */
    private async commit(): Promise<void> {
        const pending = this.pending;
        if (!pending) {
            throw new Error('Commit without a finalized block');
        }
        const client = await this.session.client();
        try {
            await this.store.commit(client, pending);
        } catch (error) {
            this.store.forgetCachedState();
            throw error;
        }
        this.pending = undefined;
        this.lastHeight = pending.consensus?.height ?? this.lastHeight;
        if (pending.block) {
            this.store.committed(pending.block);
            this.lastBlock = { number: pending.block.header.number, hash: pending.block.hash };
            this.appHash = pending.block.hash;
            this.log(`height ${this.lastHeight}: block ${pending.block.header.number} with ${pending.transactions.length} transactions, app hash ${this.appHash.slice(0, 16)}`);
        }
    }

    private configured(): ProposalRules {
        if (!this.rules) {
            throw new Error('the node has no network configuration yet: CometBFT has not called InitChain');
        }
        return this.rules;
    }
}
