import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { AGENCIES, CONTENT_COLLECTIONS, ENTERPRISES_MSP } from '@counterfoil/chaincode';
import type {
    Checkpoint, CloseableAsyncIterable, Committed, Ledger, LedgerBlock, LedgerEvent, LedgerInfo, LedgerIntegrity, TransactionRequest,
} from '../ledger';
import { CommitError, endorseErrorFrom, LedgerError } from '../ledger';
import { migrate } from '../postgres';
import { type ChainReport, verifyChain } from './audit';
import { type AuthorityRecord, type IdentityRequest, type IssuedIdentity, type Member, MembershipAuthority, signedBy } from './authorities';
import { type Block, type BlockTransaction, type ChannelConfig, makeBlock, type Proposal, proposalDigest, sha256Hex, transactionIdOf } from './blocks';
import { loadChaincode } from './chaincode-runtime';
import { Committer } from './committer';
import { KeySealer } from './key-sealer';
import { ledgerSchema } from './migrations/001_ledger';
import { readBlocks } from './reader';
import { EmbeddedStub, endorsementProblem } from './stub';
import { StateCache } from './state-cache';
import { LedgerStore } from './store';
import { WriterSession } from './writer-session';

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
export class EmbeddedLedger implements Ledger {
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
        await migrate(settings.pool, 'ledger', [ledgerSchema]);
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

    /** The certificate authority of an organisation, to enrol its users. */
    authority(mspId: string): MembershipAuthority {
        const authority = this.authorities.get(mspId);
        if (!authority) {
            throw new LedgerError({ code: 'NOT_FOUND', field: 'mspId', message: `organisation ${mspId} is not part of this ledger` });
        }
        return authority;
    }

    issueIdentity(mspId: string, request: IdentityRequest): Promise<IssuedIdentity> {
        return this.authority(mspId).issue(request);
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
        const blocks = this.rawBlocks(start.blockNumber);
        async function* generate(): AsyncGenerator<LedgerEvent> {
            let skipping = start.transactionId !== undefined;
            for await (const block of blocks) {
                if (block.data.kind !== 'transactions') {
                    continue;
                }
                for (const [index, transaction] of block.data.transactions.entries()) {
                    if (skipping && block.header.number === Number(start.blockNumber)) {
                        if (transaction.transactionId === start.transactionId) {
                            skipping = false;
                        }
                        continue;
                    }
                    if (transaction.validationCode === 'VALID' && transaction.event) {
                        yield {
                            blockNumber: BigInt(block.header.number), transactionId: transaction.transactionId, transactionIndex: index,
                            timestamp: transaction.proposal.timestamp, name: transaction.event.name, payload: Buffer.from(transaction.event.payload, 'base64'),
                        };
                    }
                }
                skipping = false;
            }
        }
        const iterator = generate();
        return { [Symbol.asyncIterator]: () => iterator, close: () => blocks.close() };
    }

    /** Blocks from `startBlock`, then each new block as it commits, until closed. */
    blocks(startBlock: bigint = 0n): CloseableAsyncIterable<LedgerBlock> {
        const blocks = this.rawBlocks(startBlock);
        async function* summarise(): AsyncGenerator<LedgerBlock> {
            for await (const block of blocks) {
                yield summary(block);
            }
        }
        const iterator = summarise();
        return { [Symbol.asyncIterator]: () => iterator, close: () => blocks.close() };
    }

    /** The stored blocks in full: transactions with their proposals, signatures and read-write sets. */
    rawBlocks(startBlock: bigint = 0n): CloseableAsyncIterable<Block> {
        return readBlocks(this.store, this.committer.blocks, Number(startBlock));
    }

    async info(): Promise<LedgerInfo> {
        return { height: BigInt(this.committer.currentHeight), currentBlockHash: this.committer.currentHash };
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

    /** The caller as a member of its organisation, valid now; otherwise UNAUTHENTICATED. */
    private authenticate(request: TransactionRequest, now: Date): Member {
        const authority = this.authorities.get(request.identity.mspId);
        if (!authority) {
            throw new LedgerError({ code: 'UNAUTHENTICATED', field: 'identity', message: `organisation ${request.identity.mspId} is not part of this ledger` });
        }
        const admitted = authority.admit(request.identity.certificate, now);
        if (typeof admitted === 'string') {
            throw new LedgerError({ code: 'UNAUTHENTICATED', field: 'identity', message: admitted });
        }
        return admitted;
    }

    /** Checks the caller, has it sign the proposal, and simulates the transaction. */
    private async endorse(request: TransactionRequest): Promise<{ transaction: Omit<BlockTransaction, 'validationCode'>; privateWrites: ReturnType<EmbeddedStub['results']>['privateWrites'] }> {
        const now = new Date();
        const member = this.authenticate(request, now);
        const creator = { mspId: request.identity.mspId, certificate: request.identity.certificate };
        const transient = new Map(Object.entries(request.transient ?? {}));
        const nonce = randomBytes(24).toString('base64');
        const proposal: Proposal = {
            channel: this.options.channel,
            chaincode: this.options.chaincode,
            contract: request.contract,
            transaction: request.transaction,
            arguments: [...(request.arguments ?? [])],
            transientHashes: Object.fromEntries([...transient.entries()].sort(([left], [right]) => left.localeCompare(right)).map(([name, value]) => [name, sha256Hex(value)])),
            creator,
            nonce,
            timestamp: now.toISOString(),
        };
        const transactionId = transactionIdOf(nonce, creator);
        const digest = proposalDigest(proposal);
        const signature = Buffer.from(await request.identity.sign(digest));
        if (!signedBy(member, digest, signature)) {
            throw new LedgerError({ code: 'UNAUTHENTICATED', field: 'identity', message: 'the proposal signature does not match the certificate', transactionId });
        }
        const stub = new EmbeddedStub({
            store: this.store,
            channel: this.options.channel,
            transactionId,
            timestamp: now,
            creator,
            arguments: [`${request.contract}:${request.transaction}`, ...proposal.arguments],
            transient,
            collections: new Set(Object.keys(CONTENT_COLLECTIONS)),
        });
        let response;
        try {
            response = await this.chaincode.invoke(stub);
        } catch (error) {
            throw new LedgerError({ code: 'INTERNAL', message: `chaincode failed: ${(error as Error).message}`, transactionId, cause: error });
        }
        // The chaincode turns a failed read into a refusal; it is the ledger's trouble, not the request's.
        if (stub.storeFailure) {
            throw new LedgerError({ code: 'UNAVAILABLE', message: `the ledger's state could not be read: ${stub.storeFailure.message}`, transactionId, cause: stub.storeFailure });
        }
        if (response.status !== 200) {
            throw endorseErrorFrom(response.message ?? 'the chaincode refused the transaction', transactionId);
        }
        const results = stub.results();
        const problem = endorsementProblem(results);
        if (problem) {
            throw new LedgerError({ code: 'FAILED_PRECONDITION', field: 'transaction', message: problem, transactionId });
        }
        return {
            transaction: {
                transactionId,
                proposal,
                signature: signature.toString('base64'),
                response: { status: response.status, payload: Buffer.from(response.payload ?? new Uint8Array(0)).toString('base64') },
                readWriteSet: results.readWriteSet,
                event: results.event ? { name: results.event.name, payload: Buffer.from(results.event.payload).toString('base64') } : undefined,
            },
            privateWrites: results.privateWrites,
        };
    }
}

function summary(block: Block): LedgerBlock {
    const transactions = block.data.kind === 'transactions' ? block.data.transactions : [];
    return {
        number: BigInt(block.header.number),
        previousHash: block.header.previousHash,
        dataHash: block.header.dataHash,
        transactions: transactions.map((transaction) => ({
            transactionId: transaction.transactionId,
            creatorMspId: transaction.proposal.creator.mspId,
            timestamp: transaction.proposal.timestamp,
            validationCode: transaction.validationCode,
            event: transaction.event ? { name: transaction.event.name, payload: Buffer.from(transaction.event.payload, 'base64') } : undefined,
        })),
    };
}
