import type { Pool } from 'pg';
import { AGENCIES, CONTENT_COLLECTIONS, ENTERPRISES_MSP } from '@counterfoil/chaincode';
import type {
    Checkpoint, CloseableAsyncIterable, Committed, ConsensusStatus, LedgerBlock, PartyLedger, LedgerEvent, LedgerInfo, LedgerIntegrity, TransactionRequest,
} from '../ledger';
import { CommitError, type LedgerHistory, LedgerError } from '../ledger';
import { migrate } from '../postgres';
import { type ChainReport, verifyChain } from '../audit/chain';
import { type AuthorityRecord, AuthorityEnrolment, type IdentityRequest, type IssuedIdentity, MembershipAuthority } from '../membership/authorities';
import { type Block, type ChannelConfig, makeBlock } from '../storage/blocks';
import { loadChaincode } from '../execution/chaincode-runtime';
import { Committer, type EndorsedTransaction } from './committer';
import { KeySealer } from '../membership/key-sealer';
import { LEDGER_MIGRATIONS } from '../storage/migrations';
import { blockSummaries, ledgerEvents, readBlocks } from '../storage/reader';
import { endorse, type Endorser } from '../execution/execute';
import { StateCache } from '../storage/state-cache';
import { LedgerStore } from '../storage/store';
import { WriterSession } from '../storage/writer-session';

/** What a certificate authority's sealed key is bound to. */
function authorityContext(mspId: string): string {
    return `msp_authorities:${mspId}`;
}

export type EmbeddedLedgerOptions = Readonly<{
    /** Seals the certificate authorities' private keys in PostgreSQL (a key kept outside the database). */
    keys: KeySealer;
    pool: Pool;
    channel?: string;
    chaincode?: string;
    /** Organisations created with the ledger; each gets its own certificate authority. */
    organisations?: readonly string[];
    /** Most transactions in one block. */
    maxBlockTransactions?: number;
    /** World-state keys kept in memory for simulation and validation (0: none). */
    stateCacheEntries?: number;
    /** fabric-shim's log level for the chaincode (default CRITICAL: refusals are not faults). */
    chaincodeLogLevel?: string;
}>;

/**
 * A single-node ledger running the Counterfoil chaincode in-process, with Fabric's semantics,
 * its blocks hash-chained and stored in PostgreSQL with the world state.
 */
export class EmbeddedLedger implements PartyLedger {
    private constructor(
        private readonly options: Required<Omit<EmbeddedLedgerOptions, 'organisations' | 'keys'>>,
        private readonly store: LedgerStore,
        private readonly committer: Committer,
        private readonly session: WriterSession,
        private readonly authorities: ReadonlyMap<string, MembershipAuthority>,
        private readonly chaincode: ReturnType<typeof loadChaincode>,
        /** Seals the private keys this ledger's clients keep (the gateway's principals'), as it seals its authorities'. */
        readonly keys: KeySealer,
    ) {}

    private chain?: ChainReport;

    static async open(options: EmbeddedLedgerOptions): Promise<EmbeddedLedger> {
        const settings = {
            pool: options.pool,
            channel: options.channel ?? 'tradehub',
            chaincode: options.chaincode ?? 'counterfoil',
            maxBlockTransactions: options.maxBlockTransactions ?? 500,
            stateCacheEntries: options.stateCacheEntries ?? 100_000,
            chaincodeLogLevel: options.chaincodeLogLevel ?? 'CRITICAL',
        };
        await migrate(settings.pool, 'ledger', LEDGER_MIGRATIONS);
        // Idle connections the server closes (PostgreSQL restarting) are expected: they are replaced.
        settings.pool.on('error', () => undefined);
        const session = await WriterSession.open(settings.pool);
        try {
            const store = new LedgerStore(settings.pool, settings.chaincode, new StateCache(settings.stateCacheEntries));
            let last = await store.lastBlock();
            if (!last) {
                const organisations = options.organisations ?? [...AGENCIES, ENTERPRISES_MSP];
                const created = await Promise.all(organisations.map((mspId) => MembershipAuthority.create(mspId)));
                const config: ChannelConfig = {
                    channel: settings.channel,
                    chaincode: settings.chaincode,
                    organisations: created.map((authority) => ({ mspId: authority.mspId, rootCertificate: authority.record.certificate })),
                    collections: Object.entries(CONTENT_COLLECTIONS).map(([name, members]) => ({ name, members: [...members] })),
                };
                await store.createGenesis(
                    created.map((authority) => ({ ...authority.record, privateKey: options.keys.seal(authority.record.privateKey, authorityContext(authority.mspId)) })),
                    makeBlock(0, '', { kind: 'config', config }));
                last = await store.lastBlock();
            }
            if (!last) {
                throw new LedgerError({ code: 'INTERNAL', message: 'the genesis block was not written' });
            }
            const records: AuthorityRecord[] = [];
            for (const stored of await store.authorities()) {
                const privateKey = options.keys.unseal(stored.privateKey, authorityContext(stored.mspId));
                if (!KeySealer.isSealed(stored.privateKey)) {
                    await store.replaceAuthorityKey(stored.mspId, stored.privateKey, options.keys.seal(privateKey, authorityContext(stored.mspId)));
                }
                records.push({ ...stored, privateKey });
            }
            const authorities = new Map(records.map((record) => [record.mspId, MembershipAuthority.fromRecord(record)]));
            const committer = new Committer(store, session, last.number + 1, last.headerHash.toString('hex'), settings.maxBlockTransactions);
            const ledger = new EmbeddedLedger(settings, store, committer, session, authorities, loadChaincode({ logLevel: settings.chaincodeLogLevel }), options.keys);
            // A ledger that cannot vouch for its history must not extend it: each new block would
            // chain to a tip nobody can trust.
            ledger.chain = await verifyChain(store);
            return ledger;
        } catch (error) {
            await session.close();
            throw error;
        }
    }

    /** Every organisation's certificate authority: a single-node ledger holds them all. */
    get enrolment(): AuthorityEnrolment {
        this.authorityEnrolment ??= new AuthorityEnrolment(this.authorities, this.keys);
        return this.authorityEnrolment;
    }

    private authorityEnrolment?: AuthorityEnrolment;

    /** The certificate authority of an organisation, to enrol its users. */
    authority(mspId: string): MembershipAuthority {
        return this.enrolment.authority(mspId);
    }

    issueIdentity(mspId: string, request: IdentityRequest): Promise<IssuedIdentity> {
        return this.enrolment.enrol(mspId, request);
    }

    /** The stored blocks and world state, for an auditor. */
    get history(): LedgerHistory {
        return this.store;
    }

    /** The hash chain as verified from block 0 when the ledger was opened. */
    integrity(): LedgerIntegrity {
        const problems = this.chain?.problems ?? [];
        return { verified: problems.length === 0, blocks: this.chain?.blocks ?? 0, problems };
    }

    async submit(request: TransactionRequest): Promise<Committed> {
        const [problem] = this.chain?.problems ?? [];
        if (problem) {
            throw new LedgerError({
                code: 'UNAVAILABLE', field: 'ledger',
                message: `the ledger's hash chain does not verify from block 0 (block ${problem.blockNumber}: ${problem.problem}); it takes no writes until the stored blocks are restored`,
            });
        }
        const { transaction, privateWrites } = await this.endorse(request);
        const outcome = await this.committer.enqueue({ transaction, privateWrites });
        if (outcome.validationCode !== 'VALID') {
            throw new CommitError({ validationCode: outcome.validationCode, blockNumber: BigInt(outcome.blockNumber), transactionId: transaction.transactionId });
        }
        return {
            result: Buffer.from(transaction.response.payload, 'base64'),
            transactionId: transaction.transactionId,
            blockNumber: BigInt(outcome.blockNumber),
        };
    }

    async evaluate(request: TransactionRequest): Promise<Uint8Array> {
        const { transaction } = await this.endorse(request);
        return Buffer.from(transaction.response.payload, 'base64');
    }

    events(options: { readonly start?: Checkpoint } = {}): CloseableAsyncIterable<LedgerEvent> {
        const start = options.start ?? { blockNumber: BigInt(this.committer.currentHeight) };
        return ledgerEvents(this.rawBlocks(start.blockNumber), start);
    }

    /** Blocks from `startBlock`, then each new block as it commits, until closed. */
    blocks(startBlock: bigint = 0n): CloseableAsyncIterable<LedgerBlock> {
        return blockSummaries(this.rawBlocks(startBlock));
    }

    /** The stored blocks in full: transactions with their proposals, signatures and read-write sets. */
    rawBlocks(startBlock: bigint = 0n): CloseableAsyncIterable<Block> {
        return readBlocks(this.store, this.committer.blocks, Number(startBlock), () => this.committer.currentHeight);
    }

    async info(): Promise<LedgerInfo> {
        return { height: BigInt(this.committer.currentHeight), currentBlockHash: this.committer.currentHash };
    }

    async consensus(): Promise<ConsensusStatus> {
        return { engine: 'embedded', height: this.committer.currentHeight };
    }

    async transaction(transactionId: string): Promise<{ blockNumber: bigint; validationCode: string } | undefined> {
        const found = await this.store.blockOfTransaction(transactionId);
        return found ? { blockNumber: BigInt(found.blockNumber), validationCode: found.validationCode } : undefined;
    }

    get ledgerStore(): LedgerStore {
        return this.store;
    }

    async close(): Promise<void> {
        await this.committer.close();
        this.committer.blocks.emit('close');
        await this.session.close();
    }

    /** Checks the caller, has it sign the proposal, and simulates the transaction. */
    private async endorse(request: TransactionRequest): Promise<EndorsedTransaction> {
        this.endorser ??= { authorities: this.authorities, target: this.options, runtime: this.chaincode, view: this.store, collections: COLLECTIONS };
        const { signed, response, simulation } = await endorse(this.endorser, request);
        return {
            transaction: {
                transactionId: signed.transactionId,
                proposal: signed.proposal,
                signature: signed.signature.toString('base64'),
                response: { status: response.status, payload: Buffer.from(response.payload ?? new Uint8Array(0)).toString('base64') },
                readWriteSet: simulation.readWriteSet,
                event: simulation.event ? { name: simulation.event.name, payload: Buffer.from(simulation.event.payload).toString('base64') } : undefined,
            },
            privateWrites: simulation.privateWrites,
        };
    }

    private endorser?: Endorser;
}

const COLLECTIONS: ReadonlySet<string> = new Set(Object.keys(CONTENT_COLLECTIONS));
