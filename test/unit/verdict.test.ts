import { expect } from 'chai';
import { allowance, type Declaration, type DocumentRecord, judge } from '@counterfoil/chaincode';

const licence: DocumentRecord = {
    type: 'LICENCE', number: 'LIC-1', version: 1, issuer: 'CommerceMSP', holder: '91350100M000100Y43', status: 'ACTIVE',
    validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-12-31T00:00:00.000Z', summary: {}, contentHash: 'a'.repeat(64),
    collection: 'licenceContent', issuedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', transactionId: 't',
    permit: { direction: 'EXPORT', goods: [{ hsCode: '7208510000', quantity: 1000, unit: 'TNE', drawn: 0 }], useLimit: 2, usesCount: 0, bulk: false },
};

const declaration: Declaration = {
    declarationNumber: '220120260000000001', permitType: 'LICENCE', permitNumber: 'LIC-1', holder: '91350100M000100Y43',
    direction: 'EXPORT', goods: [{ hsCode: '7208510000', quantity: 400, unit: 'TNE' }], declaredAt: '2026-06-01T00:00:00.000Z', port: '2201',
};

describe('judging a declaration against its permit', () => {
    it('finds nothing wrong with a declaration within the licence, and draws what it declares', () => {
        expect(judge(licence, declaration)).to.deep.equal({ reasons: [], drawdown: [{ hsCode: '7208510000', quantity: 400, unit: 'TNE' }] });
    });

    it('adds up declaration lines of the same HS code before comparing with what remains', () => {
        const split = { ...declaration, goods: [{ hsCode: '7208510000', quantity: 600, unit: 'TNE' }, { hsCode: '7208510000', quantity: 401, unit: 'TNE' }] };
        expect(judge(licence, split).reasons.map((reason) => reason.code)).to.deep.equal(['QUANTITY_EXCEEDED']);
    });

    it('rounds the 5 % bulk allowance down to whole base units', () => {
        expect(allowance({ hsCode: '2603000010', quantity: 1000, unit: 'KGM', drawn: 0 }, true)).to.equal(1050);
        expect(allowance({ hsCode: '2603000010', quantity: 999, unit: 'KGM', drawn: 0 }, true)).to.equal(1048);
        expect(allowance({ hsCode: '2603000010', quantity: 999, unit: 'KGM', drawn: 0 }, false)).to.equal(999);
    });

    it('is exact for the largest quantities a licence may carry', () => {
        expect(allowance({ hsCode: '2603000010', quantity: 1_000_000_000_000, unit: 'KGM', drawn: 0 }, true)).to.equal(1_050_000_000_000);
    });

    it('lists every reason in a fixed order, and draws nothing when there is one', () => {
        const revoked: DocumentRecord = { ...licence, status: 'REVOKED', revocation: { reason: 'fraud', at: '2026-05-01T00:00:00.000Z' } };
        const judgement = judge(revoked, { ...declaration, declaredAt: '2027-01-01T00:00:00.000Z', direction: 'IMPORT', holder: '91110000802100433B' });
        expect(judgement.reasons.map((reason) => reason.code)).to.deep.equal(['EXPIRED', 'REVOKED', 'HOLDER_MISMATCH', 'DIRECTION_MISMATCH']);
        expect(judgement.drawdown).to.deep.equal([]);
    });

    it('answers NOT_FOUND alone when there is no permit', () => {
        expect(judge(undefined, declaration).reasons.map((reason) => reason.code)).to.deep.equal(['NOT_FOUND']);
    });
});
