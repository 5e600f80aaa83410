import { expect } from 'chai';
import { isUscc, usccCheckCharacter, usccProblem } from '@counterfoil/chaincode';

describe('Unified Social Credit Codes (GB 32100)', () => {
    it('accepts published codes whose check character is right', () => {
        for (const code of ['91350100M000100Y43', '91110000802100433B', '91440300708461136T']) {
            expect(isUscc(code), code).to.equal(true);
        }
    });

    it('computes the check character over the first 17 characters', () => {
        expect(usccCheckCharacter('91350100M000100Y4')).to.equal('3');
        expect(usccCheckCharacter('91110000802100433')).to.equal('B');
    });

    it('refuses a code whose check character is wrong', () => {
        expect(usccProblem('91350100M000100Y44')).to.match(/check character/);
    });

    it('refuses letters outside the alphabet, and codes of the wrong length', () => {
        expect(usccProblem('91350100M000100I43')).to.match(/without I, O, S, V, Z/);
        expect(usccProblem('91350100M000100Y4')).to.match(/18 characters/);
        expect(usccProblem('9135010AM000100Y43')).to.match(/administrative division/);
    });
});
