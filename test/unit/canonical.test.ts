import { expect } from 'chai';
import { canonicalJson, CanonicalJsonSerializer, ChaincodeError, Fields, parseChaincodeError } from '@counterfoil/chaincode';

describe('canonical JSON', () => {
    it('sorts keys at every depth and drops undefined members', () => {
        expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).to.equal('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
    });

    it('gives the same bytes for objects built in different orders', () => {
        expect(canonicalJson({ x: 1, y: { q: 2, p: 3 } })).to.equal(canonicalJson({ y: { p: 3, q: 2 }, x: 1 }));
    });

    it('is what the chaincode answers with', () => {
        const bytes = new CanonicalJsonSerializer().toBuffer({ b: 2, a: 1 }, {});
        expect(bytes.toString('utf8')).to.equal('{"a":1,"b":2}');
    });
});

describe('chaincode errors', () => {
    it('round-trip through their message as code, field and rule', () => {
        const error = new ChaincodeError('FORBIDDEN', 'caller', 'TaxMSP may not verify permits; only CustomsMSP may');
        expect(parseChaincodeError(error.message)).to.deep.equal({ code: 'FORBIDDEN', field: 'caller', rule: 'TaxMSP may not verify permits; only CustomsMSP may' });
    });

    it('are not recognised in messages of another shape', () => {
        expect(parseChaincodeError('You\'ve asked to invoke a function that does not exist: Delete')).to.equal(undefined);
        expect(parseChaincodeError('TEAPOT: field: rule')).to.equal(undefined);
    });
});

describe('request fields', () => {
    function refusal(call: () => unknown): string {
        try {
            call();
        } catch (error) {
            return (error as Error).message;
        }
        throw new Error('expected a refusal');
    }

    it('names the path of a nested field in its error', () => {
        const fields = Fields.parse('{"goods":[{"hsCode":"1"},{"hsCode":"12345"}]}');
        expect(refusal(() => fields.array('goods', { minItems: 1, maxItems: 5 }, (line) => line.string('hsCode', { pattern: /^\d{10}$/, patternRule: 'must be 10 digits' }))))
            .to.equal('INVALID_ARGUMENT: goods[0].hsCode: must be 10 digits');
    });

    it('refuses fields nobody read', () => {
        const fields = Fields.parse('{"known":"x","unknown":1}');
        fields.string('known');
        expect(refusal(() => fields.done())).to.equal('INVALID_ARGUMENT: unknown: is not a known field');
    });

    it('normalises date-times to UTC and refuses impossible dates', () => {
        expect(Fields.parse('{"at":"2026-03-01T08:00:00+08:00"}').timestamp('at')).to.equal('2026-03-01T00:00:00.000Z');
        expect(refusal(() => Fields.parse('{"at":"2026-02-29T00:00:00Z"}').timestamp('at'))).to.match(/real calendar date-time/);
        expect(refusal(() => Fields.parse('{"at":"2026-03-01"}').timestamp('at'))).to.match(/ISO 8601/);
    });

    it('refuses numbers that are not safe whole numbers', () => {
        expect(refusal(() => Fields.parse('{"n":9007199254740993}').integer('n', { min: 0, max: Number.MAX_SAFE_INTEGER }))).to.match(/whole number/);
        expect(refusal(() => Fields.parse('{"n":1e400}').integer('n', { min: 0, max: 10 }))).to.match(/whole number/);
    });

    it('refuses control characters in free text', () => {
        expect(refusal(() => Fields.parse('{"text":"a\\u0000b"}').string('text'))).to.match(/control characters/);
    });

    it('refuses oversize requests before parsing them', () => {
        expect(refusal(() => Fields.parse(`{"text":"${'x'.repeat(300 * 1024)}"}`))).to.match(/at most/);
    });
});
