import { randomBytes } from 'node:crypto';
import { type BlockTransaction, makeBlock, type ValidationCode } from '../../network/storage/blocks';
import { Committer } from '../../network/embedded/committer';
import { LEDGER_MIGRATIONS } from '../../network/storage/migrations';
import { StateCache } from '../../network/storage/state-cache';
import { LedgerStore } from '../../network/storage/store';
import { EmbeddedStub } from '../../network/execution/stub';
import { WriterSession } from '../../network/storage/writer-session';
import { migrate } from '../../network/postgres';
import { freshDatabase, type TestDatabase } from '../support/postgres';

/**
 * The embedded ledger's stub and committer without any chaincode, so that tests can run
 * arbitrary reads and writes and watch Fabric's simulation and validation rules apply.
 */
export class StubHarness {
    private constructor(
        readonly database: TestDatabase,
        readonly store: LedgerStore,
        private readonly session: WriterSession,
        readonly committer: Committer,
    ) {}

    /** `cacheEntries`: the world-state cache's size, as the ledger sets it (0, the default: none). */
    static async create(cacheEntries = 0): Promise<StubHarness> {
        const database = await freshDatabase('stub');
        await migrate(database.pool, 'ledger', LEDGER_MIGRATIONS);
        const store = new LedgerStore(database.pool, 'counterfoil', new StateCache(cacheEntries));
        const genesis = makeBlock(0, '', { kind: 'config', config: { channel: 'test', chaincode: 'counterfoil', organisations: [], collections: [{ name: 'secrets', members: [] }] } });
        await store.createGenesis([], genesis);
        const session = await WriterSession.open(database.pool);
        return new StubHarness(database, store, session, new Committer(store, session, 1, genesis.block.hash, 100));
    }

    stub(transactionId = randomBytes(16).toString('hex')): EmbeddedStub {
        return new EmbeddedStub({
            store: this.store, channel: 'test', transactionId, timestamp: new Date(),
            creator: { mspId: 'CustomsMSP', certificate: '' }, arguments: [], transient: new Map(), collections: new Set(['secrets']),
        });
    }

    /** Orders and commits what a stub simulated; resolves with the validation code. */
    async commit(stub: EmbeddedStub): Promise<ValidationCode> {
        const results = stub.results();
        const transaction: Omit<BlockTransaction, 'validationCode'> = {
            transactionId: stub.getTxID(),
            proposal: { channel: 'test', chaincode: 'counterfoil', contract: 'test', transaction: 'test', arguments: [], transientHashes: {}, creator: { mspId: 'CustomsMSP', certificate: '' }, nonce: '', timestamp: new Date().toISOString() },
            signature: '', response: { status: 200, payload: '' }, readWriteSet: results.readWriteSet,
        };
        return (await this.committer.enqueue({ transaction, privateWrites: results.privateWrites })).validationCode;
    }

    /** Simulates and commits in one go. */
    async run(work: (stub: EmbeddedStub) => Promise<void>): Promise<ValidationCode> {
        const stub = this.stub();
        await work(stub);
        return this.commit(stub);
    }

    async close(): Promise<void> {
        await this.committer.close();
        await this.session.close();
        await this.database.drop();
    }
}

export function text(bytes: Uint8Array): string {
    return Buffer.from(bytes).toString('utf8');
}

export async function drain(iterator: Promise<{ next(): Promise<{ value: { key: string; value: Uint8Array }; done: boolean }>; close(): Promise<void> }>): Promise<string[]> {
    const opened = await iterator;
    const keys: string[] = [];
    for (let result = await opened.next(); !result.done; result = await opened.next()) {
        keys.push(result.value.key);
    }
    await opened.close();
    return keys;
}
