import { expect } from 'chai';
import { endorsementProblem, hashedNamespace } from '../../network/execution/stub';
import { sha256Hex } from '../../network/storage/blocks';
import { drain, StubHarness, text } from './harness';

const value = (content: string): Uint8Array => Buffer.from(content, 'utf8');

// The same rules with the world state read from the database every time, and through the cache the ledger keeps.
for (const [cacheEntries, reading] of [[0, 'from the database'], [1000, 'through its state cache']] as const) {
describe(`the embedded ledger simulates transactions as Fabric does (state read ${reading})`, function () {
    this.timeout(60_000);
    let harness: StubHarness;

    before(async () => {
        harness = await StubHarness.create(cacheEntries);
    });

    after(async () => {
        await harness?.close();
    });

    it('reads committed state only, never the transaction\'s own writes', async () => {
        expect(await harness.run(async (stub) => stub.putState('balance', value('100')))).to.equal('VALID');
        const stub = harness.stub();
        await stub.putState('balance', value('40'));
        expect(text(await stub.getState('balance'))).to.equal('100');
        await stub.putState('fresh', value('x'));
        expect((await stub.getState('fresh')).length).to.equal(0);
        expect(await harness.commit(stub)).to.equal('VALID');
        expect(text(await harness.stub().getState('balance'))).to.equal('40');
    });

    it('invalidates the second of two transactions that read the same version (MVCC_READ_CONFLICT) and discards its writes', async () => {
        await harness.run(async (stub) => stub.putState('licence', value('1000')));
        const first = harness.stub();
        const second = harness.stub();
        for (const stub of [first, second]) {
            const left = Number(text(await stub.getState('licence')));
            await stub.putState('licence', value(String(left - 600)));
        }
        const [a, b] = await Promise.all([harness.commit(first), harness.commit(second)]);
        expect([a, b]).to.deep.equal(['VALID', 'MVCC_READ_CONFLICT']);
        expect(text(await harness.stub().getState('licence'))).to.equal('400');
    });

    it('invalidates a transaction whose range read gained a key before it committed (PHANTOM_READ_CONFLICT)', async () => {
        await harness.run(async (stub) => stub.putState(stub.createCompositeKey('port', ['2201']), value('1')));
        const scanner = harness.stub();
        expect(await drain(scanner.getStateByPartialCompositeKey('port', []))).to.have.length(1);
        await scanner.putState('ports-counted', value('1'));
        expect(await harness.run(async (stub) => stub.putState(stub.createCompositeKey('port', ['5300']), value('1')))).to.equal('VALID');
        expect(await harness.commit(scanner)).to.equal('PHANTOM_READ_CONFLICT');
        expect((await harness.stub().getState('ports-counted')).length).to.equal(0);
    });

    it('orders composite keys bytewise, as Fabric does, and pages through them with bookmarks', async () => {
        const attributes = ['b', 'B', 'a', 'é', '10', '9', 'Z'];
        await harness.run(async (stub) => {
            for (const attribute of attributes) {
                await stub.putState(stub.createCompositeKey('order', [attribute]), value(attribute));
            }
        });
        const reader = harness.stub();
        const all = (await drain(reader.getStateByPartialCompositeKey('order', []))).map((key) => reader.splitCompositeKey(key).attributes[0]);
        expect(all).to.deep.equal(['10', '9', 'B', 'Z', 'a', 'b', 'é']);
        const paged: string[] = [];
        let bookmark = '';
        do {
            const { iterator, metadata } = await reader.getStateByPartialCompositeKeyWithPagination('order', [], 3, bookmark);
            for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
                paged.push(reader.splitCompositeKey(result.value.key).attributes[0] as string);
            }
            expect(metadata.fetchedRecordsCount).to.be.at.most(3);
            bookmark = metadata.bookmark;
        } while (bookmark);
        expect(paged).to.deep.equal(all);
    });

    it('keeps composite keys out of simple-key range queries', async () => {
        await harness.run(async (stub) => {
            await stub.putState('simple-a', value('1'));
            await stub.putState(stub.createCompositeKey('simple', ['b']), value('2'));
        });
        const keys = await drain(harness.stub().getStateByRange('', ''));
        expect(keys).to.include('simple-a');
        expect(keys.every((key) => !key.startsWith('\u0000'))).to.equal(true);
    });

    it('refuses to endorse a transaction that both pages through state and writes', async () => {
        const reader = harness.stub();
        await reader.getStateByPartialCompositeKeyWithPagination('order', [], 2, '');
        expect(endorsementProblem(reader.results())).to.equal(undefined);
        const writer = harness.stub();
        await writer.getStateByPartialCompositeKeyWithPagination('order', [], 2, '');
        await writer.putState('after-page', value('1'));
        expect(endorsementProblem(writer.results())).to.match(/paginated queries are not allowed/);
    });

    it('treats an empty value as a delete and keeps the key\'s history, newest first', async () => {
        await harness.run(async (stub) => stub.putState('history', value('one')));
        await harness.run(async (stub) => stub.putState('history', value('two')));
        await harness.run(async (stub) => stub.putState('history', new Uint8Array(0)));
        expect((await harness.stub().getState('history')).length).to.equal(0);
        const iterator = await harness.stub().getHistoryForKey('history');
        const entries: { isDelete: boolean; value: string }[] = [];
        for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
            entries.push({ isDelete: result.value.isDelete, value: text(result.value.value) });
        }
        expect(entries).to.deep.equal([{ isDelete: true, value: '' }, { isDelete: false, value: 'two' }, { isDelete: false, value: 'one' }]);
    });

    it('keeps private data out of blocks, with its hash in public state', async () => {
        const secret = '签章印模 #42';
        await harness.run(async (stub) => stub.putPrivateData('secrets', 'specimen', value(secret)));
        const reader = harness.stub();
        expect(text(await reader.getPrivateData('secrets', 'specimen'))).to.equal(secret);
        expect(Buffer.from(await reader.getPrivateDataHash('secrets', 'specimen')).toString('hex')).to.equal(sha256Hex(secret));
        const hashed = await harness.store.getState(hashedNamespace('counterfoil', 'secrets'), sha256Hex('specimen'));
        expect(hashed?.value.toString('hex')).to.equal(sha256Hex(secret));
        const blocks = await harness.store.blocks(0, 1000);
        expect(blocks.some((block) => block.data.toString('utf8').includes(Buffer.from(secret).toString('base64')) || block.data.toString('utf8').includes(secret))).to.equal(false);
        await expectRejection(() => reader.getPrivateData('unknown', 'specimen'), /collection unknown is not defined/);
    });

    it('refuses a transaction id that is already on the ledger (DUPLICATE_TXID)', async () => {
        const first = harness.stub('fixed-transaction-id');
        await first.putState('duplicate', value('1'));
        expect(await harness.commit(first)).to.equal('VALID');
        const again = harness.stub('fixed-transaction-id');
        await again.putState('duplicate', value('2'));
        expect(await harness.commit(again)).to.equal('DUPLICATE_TXID');
        expect(text(await harness.stub().getState('duplicate'))).to.equal('1');
    });

    it('keeps a key-level endorsement policy set with the key\'s value, set alone, and gone with the key', async () => {
        const policy = (text: string): Uint8Array => Buffer.from(text, 'utf8');
        const policyOf = async (key: string): Promise<string> => Buffer.from(await harness.stub().getStateValidationParameter(key)).toString('utf8');
        const [first, second] = [harness.stub(), harness.stub()];
        await first.putState('with-policy', value('1'));
        await first.setStateValidationParameter('with-policy', policy('CustomsMSP'));
        await second.putState('policy-later', value('1'));
        // A value with its policy in one transaction, and another key's value alone.
        expect(await Promise.all([harness.commit(first), harness.commit(second)])).to.deep.equal(['VALID', 'VALID']);
        expect(await policyOf('with-policy')).to.equal('CustomsMSP');
        expect(await policyOf('policy-later')).to.equal('');
        expect(await harness.run(async (stub) => stub.setStateValidationParameter('policy-later', policy('TaxMSP')))).to.equal('VALID');
        expect(await harness.run(async (stub) => stub.putState('with-policy', value('2')))).to.equal('VALID');
        expect([await policyOf('with-policy'), await policyOf('policy-later')]).to.deep.equal(['CustomsMSP', 'TaxMSP']);
        expect(await harness.run(async (stub) => stub.deleteState('with-policy'))).to.equal('VALID');
        expect(await harness.run(async (stub) => stub.putState('with-policy', value('3')))).to.equal('VALID');
        expect(await policyOf('with-policy')).to.equal('');
    });

    it('has no rich queries: the state is a key-value store', async () => {
        await expectRejection(() => harness.stub().getQueryResult(), /rich queries are not supported/);
    });
});
}

async function expectRejection(call: () => Promise<unknown>, pattern: RegExp): Promise<void> {
    let caught: unknown;
    try {
        await call();
    } catch (error) {
        caught = error;
    }
    expect(caught).to.be.instanceOf(Error);
    expect((caught as Error).message).to.match(pattern);
}
