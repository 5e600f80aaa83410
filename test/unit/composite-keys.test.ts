import { expect } from 'chai';
import { compareKeys, createCompositeKey, splitCompositeKey } from '../../network/execution/composite-keys';

describe('composite keys', () => {
    it('are encoded as Fabric encodes them', () => {
        expect(createCompositeKey('handoff', ['CustomsMSP', 'M-1'])).to.equal('\u0000handoff\u0000CustomsMSP\u0000M-1\u0000');
    });

    it('split back into their object type and attributes', () => {
        expect(splitCompositeKey(createCompositeKey('case', ['A', '', 'Ü']))).to.deep.equal({ objectType: 'case', attributes: ['A', '', 'Ü'] });
    });

    it('refuse attributes containing the reserved code points', () => {
        expect(() => createCompositeKey('x', ['a\u0000b'])).to.throw(/reserved/);
        expect(() => createCompositeKey('x', ['\u{10FFFF}'])).to.throw(/reserved/);
    });

    it('compare in UTF-8 byte order, not UTF-16 order', () => {
        // U+FF5E sorts before U+1F600 in UTF-8 but after it in UTF-16 code units.
        expect(compareKeys('\uFF5E', '\u{1F600}')).to.be.lessThan(0);
        expect('\uFF5E' < '\u{1F600}').to.equal(false);
    });
});
