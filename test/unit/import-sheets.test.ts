import { expect } from 'chai';
import { CsvTokenizer, SheetError } from '../../gateway/imports/sheets';
import { DocumentAssembler, ImportLayout, locate } from '../../gateway/imports/layout';

const tokenize = (pieces: readonly string[]): string[][] => {
    const tokenizer = new CsvTokenizer();
    const rows = pieces.flatMap((piece) => tokenizer.push(piece));
    return [...rows, ...tokenizer.end()];
};

describe('import files: CSV read in pieces, rows made into documents', () => {
    const text = 'a,"b ""quoted"", and, commas",c\r\n"multi\r\nline",,"x"\n"",last\r\nend';
    const whole = [['a', 'b "quoted", and, commas', 'c'], ['multi\r\nline', '', 'x'], ['', 'last'], ['end']];

    it('reads the same rows wherever the text is cut, a quote pair or a CRLF included', () => {
        expect(tokenize([text])).to.deep.equal(whole);
        for (let cut = 0; cut <= text.length; cut++) {
            expect(tokenize([text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).to.deep.equal(whole);
        }
        expect(tokenize([...text]), 'a character at a time').to.deep.equal(whole);
    });

    it('ends a file without a last line break, and refuses an unclosed quote or an endless field', () => {
        expect(tokenize(['x,y\r\n'])).to.deep.equal([['x', 'y']]);
        expect(tokenize([''])).to.deep.equal([]);
        expect(() => tokenize(['a,"open'])).to.throw(SheetError, 'not closed');
        expect(() => new CsvTokenizer(5).push('123456')).to.throw(SheetError, 'longer than 5');
    });

    it('finds each column by its English or Chinese heading, and refuses headings nothing reads', () => {
        const layout = ImportLayout.read(['Type', '编号', 'holder', '生效时间', 'validTo', 'hsCode', '摘要.title', 'content.price']);
        expect(layout.headingOf('document', 'number')).to.equal('编号');
        expect(layout.headingOf('summary', 'title')).to.equal('摘要.title');
        expect(() => ImportLayout.read(['type', 'number', 'holder', 'validFrom', 'validTo', 'number'])).to.throw(SheetError, 'column F ("number") repeats column B');
        expect(() => ImportLayout.read(['type', 'number', 'holder', 'validFrom', 'validTo', 'summary.__proto__'])).to.throw(SheetError, 'a letter followed by');
        expect(() => ImportLayout.read(['type', 'number', 'validFrom', 'validTo'])).to.throw(SheetError, 'no holder column');
    });

    it('makes a document of consecutive rows, and points a chaincode field back at its row and column', () => {
        const layout = ImportLayout.read(['type', 'number', 'holder', 'validFrom', 'validTo', 'direction', 'useLimit', 'hsCode', 'quantity', 'unit']);
        const assembler = new DocumentAssembler(layout, { zone: '+08:00' });
        expect(assembler.add(2, ['licence', 'L1', 'H', '2026-01-02', '2026-03-04 10:30', 'export', '2', '7208510000', 5, 'tne'])).to.deep.equal([]);
        expect(assembler.add(4, [null, null, null, null, null, null, null, '1201900000', '7', 'TNE'])).to.deep.equal([]);
        const [first] = assembler.add(5, ['LICENCE', 'L2', 'H', '2026-01-02', '2026-03-04', 'EXPORT', 1, '7208510000', 1, 'TNE']);
        expect(first?.rows).to.deep.equal([2, 4]);
        expect(first?.request).to.deep.equal({
            type: 'LICENCE', number: 'L1', holder: 'H', validFrom: '2026-01-02T00:00:00+08:00', validTo: '2026-03-04T10:30:00+08:00',
            permit: { direction: 'EXPORT', useLimit: 2, goods: [{ hsCode: '7208510000', quantity: 5, unit: 'TNE' }, { hsCode: '1201900000', quantity: 7, unit: 'TNE' }] },
        });
        expect(locate('permit.goods[1].quantity', first?.rows ?? [], layout)).to.deep.equal({ row: 4, column: 'quantity' });
        expect(locate('permit.useLimit', first?.rows ?? [], layout)).to.deep.equal({ row: 2, column: 'useLimit' });
        expect(locate('caller', first?.rows ?? [], layout)).to.deep.equal({ row: 2, column: 'type' });
        const [second] = assembler.end();
        expect(second?.request).to.deep.include({ validTo: '2026-03-04T23:59:59+08:00' });
    });

    it('reads summary and content members as text, whatever they are named', () => {
        const layout = ImportLayout.read(['type', 'number', 'holder', 'validFrom', 'validTo', 'summary.quantity', 'content.unit', 'content.bulk']);
        const assembler = new DocumentAssembler(layout, { zone: '+08:00' });
        assembler.add(2, ['ORIGIN_CERT', 'C1', 'H', '2026-01-02', '2026-03-04', 'about 20 tonnes', 'tne', 'maybe']);
        const [document] = assembler.end();
        expect(document?.problems).to.deep.equal([]);
        expect(document?.request).to.deep.include({ summary: { quantity: 'about 20 tonnes' } });
        expect(JSON.parse(document?.content ?? '{}')).to.deep.include({ content: { unit: 'tne', bulk: 'maybe' } });
    });
});
