import { expect } from 'chai';
import { type Block, type BlockTransaction, makeBlock, type ValidationCode } from '../../network/storage/blocks';
import { StateCache } from '../../network/storage/state-cache';

const id = (key: string): string => `counterfoil\u0001${key}`;

function transaction(code: ValidationCode, writes: { key: string; value?: string }[]): BlockTransaction {
    return {
        transactionId: `tx-${Math.random()}`,
        proposal: {
            channel: 'tradehub', chaincode: 'counterfoil', contract: 'documents', transaction: 'Issue', arguments: [], transientHashes: {},
            creator: { mspId: 'CommerceMSP', certificate: '' }, nonce: '', timestamp: '2026-11-24T00:00:00.000Z',
        },
        signature: '',
        response: { status: 200, payload: '' },
        readWriteSet: {
            reads: [], rangeReads: [], metadataWrites: [],
            writes: writes.map((write) => ({
                namespace: 'counterfoil', key: write.key, isDelete: write.value === undefined,
                ...(write.value === undefined ? {} : { value: Buffer.from(write.value).toString('base64') }),
            })),
        },
        validationCode: code,
    };
}

const block = (number: number, transactions: BlockTransaction[]): Block => makeBlock(number, 'ab', { kind: 'transactions', transactions }).block;

describe('the embedded ledger\'s world-state cache', () => {
    it('takes the writes of valid transactions only, with their versions, and deletes as absent keys', () => {
        const cache = new StateCache(10);
        cache.fill(id('gone'), { value: Buffer.from('old'), version: { blockNumber: 1, txIndex: 0 } }, cache.epoch);
        cache.apply(block(7, [
            transaction('VALID', [{ key: 'a', value: 'one' }]),
            transaction('MVCC_READ_CONFLICT', [{ key: 'b', value: 'never' }]),
            transaction('VALID', [{ key: 'a', value: 'two' }, { key: 'gone' }]),
        ]));
        expect(cache.get(id('a'))).to.deep.equal({ value: Buffer.from('two'), version: { blockNumber: 7, txIndex: 2 } });
        expect(cache.get(id('b'))).to.equal(undefined);
        expect(cache.get(id('gone'))).to.equal(null);
    });

    it('does not let a read that began before a commit put back the value the commit replaced', () => {
        const cache = new StateCache(10);
        const before = cache.epoch;
        cache.apply(block(3, [transaction('VALID', [{ key: 'a', value: 'new' }])]));
        cache.fill(id('a'), { value: Buffer.from('old'), version: { blockNumber: 2, txIndex: 0 } }, before);
        expect(cache.get(id('a'))?.value.toString()).to.equal('new');
        cache.fill(id('c'), null, before);
        expect(cache.get(id('c'))).to.equal(undefined);
        cache.fill(id('c'), null, cache.epoch);
        expect(cache.get(id('c'))).to.equal(null);
    });

    it('forgets everything when cleared, and keys read before the clear are not put back', () => {
        const cache = new StateCache(10);
        const before = cache.epoch;
        cache.apply(block(3, [transaction('VALID', [{ key: 'a', value: 'x' }])]));
        cache.clear();
        expect(cache.get(id('a'))).to.equal(undefined);
        cache.fill(id('a'), null, before);
        expect(cache.size).to.equal(0);
    });

    it('lets the key read or written longest ago go first when full, and caches nothing with no room', () => {
        const cache = new StateCache(2);
        for (const key of ['a', 'b', 'c']) {
            cache.fill(id(key), null, cache.epoch);
        }
        expect([cache.get(id('a')), cache.get(id('b')), cache.get(id('c'))]).to.deep.equal([undefined, null, null]);
        cache.apply(block(4, [transaction('VALID', [{ key: 'b', value: 'again' }])]));
        cache.fill(id('d'), null, cache.epoch);
        expect(cache.get(id('c'))).to.equal(undefined);
        expect(cache.get(id('b'))?.value.toString()).to.equal('again');

        const none = new StateCache(0);
        none.fill(id('a'), null, none.epoch);
        none.apply(block(5, [transaction('VALID', [{ key: 'a', value: 'x' }])]));
        expect(none.size).to.equal(0);
    });
});
