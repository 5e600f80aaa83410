import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import * as ExcelJS from 'exceljs';
import type { DocumentRecord } from '@counterfoil/chaincode';
import type { ImportView } from '../../gateway/imports/imports';
import { csvRows } from '../../adapters/transports/csv';
import { DAY, isoIn, STEEL, SOYBEANS, unique } from '../conformance/fixtures';
import { until } from '../support/until';
import pino from 'pino';
import { startGateway } from '../../gateway/server';
import { type Answer, exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, OTHER_USCC, type Persona, PERSONAS } from './personas';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const HEADINGS = ['type', 'number', 'holder', 'validFrom', 'validTo', 'direction', 'useLimit', 'bulk', 'hsCode', 'quantity', 'unit', 'summary.holderName', 'content.contract'];

/** CSV text of rows, quoted where needed. */
function csvOf(rows: readonly (readonly (string | number)[])[]): string {
    return rows.map((row) => row.map((cell) => (/[",\r\n]/.test(String(cell)) ? `"${String(cell).replace(/"/g, '""')}"` : String(cell))).join(',')).join('\r\n');
}

describe('imports of documents from CSV and Excel', function () {
    this.timeout(180_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const from = isoIn(-DAY).slice(0, 10);
    const to = isoIn(200 * DAY).slice(0, 10);

    async function as<T = unknown>(persona: Persona, method: string, path: string, options: { body?: unknown; rawBody?: string | Uint8Array; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
        return harness.request<T>(method, path, { token: tokens.get(persona), ...options });
    }

    async function upload(persona: Persona, file: string | Uint8Array, query = 'mode=check', contentType = 'text/csv'): Promise<Answer<ImportView>> {
        return as<ImportView>(persona, 'POST', `/v1/imports?${query}`, { rawBody: file, headers: { 'Content-Type': contentType } });
    }

    /** Waits for an import to finish (DONE or FAILED), checking that its progress never goes back. */
    async function finished(persona: Persona, id: string): Promise<ImportView> {
        let processed = 0;
        return until(async () => {
            const answer = await as<ImportView>(persona, 'GET', `/v1/imports/${id}`);
            expect(answer.status, answer.text).to.equal(200);
            expect(answer.body.processed, 'progress').to.be.at.least(processed);
            processed = answer.body.processed;
            return ['DONE', 'FAILED', 'INTERRUPTED'].includes(answer.body.status) && answer.body;
        }, `import ${id} to finish`, { timeoutMs: 150_000 });
    }

    /** The per-row results as CSV rows, headings first. */
    async function results(persona: Persona, id: string, query = ''): Promise<string[][]> {
        const answer = await as<string>(persona, 'GET', `/v1/imports/${id}/results${query}`);
        expect(answer.status, answer.text).to.equal(200);
        return csvRows(answer.text.replace(/^\uFEFF/, ''));
    }

    const height = async (): Promise<bigint> => (await harness.ledger.info()).height;

    before(async () => {
        harness = await GatewayHarness.start({ importLimits: { maxBytes: 2 * 1024 * 1024, maxRows: 6000 } });
        tokens = await harness.personaTokens();
    });

    after(async () => harness?.stop());

    it('checks a file without writing, reports every bad row by row, column and rule, then submits the good rows once', async () => {
        const licence = unique('LIC-IMP');
        const certificate = unique('CO-IMP');
        const file = csvOf([
            HEADINGS,
            ['LICENCE', licence, EXPORTER_USCC, from, to, 'EXPORT', 12, 'false', STEEL, 1000, 'TNE', '上海远洋贸易有限公司', 'C-7781'],
            ['', '', '', '', '', '', '', '', SOYBEANS, 500, 'TNE', '', ''],
            ['LICENCE', unique('LIC-BAD'), EXPORTER_USCC, from, to, 'EXPORT', 'twelve', 'maybe', '72085100', 1000, 'TNE', '', ''],
            ['LICENCE', unique('LIC-BAD'), '91350100M000100Y4X', from, to, 'EXPORT', 12, 'false', STEEL, 1000, 'TNE', '', ''],
            ['ORIGIN_CERT', certificate, OTHER_USCC, from, to, 'EXPORT', 1, '否', STEEL, 20, 'TNE', 'Guangzhou Export Co.', ''],
        ]);
        const before = await height();
        const checked = await upload('commerce', file, 'mode=check&name=licences.csv');
        expect(checked.status, checked.text).to.equal(202);
        expect(checked.headers.get('location')).to.equal(`/v1/imports/${checked.body.id}`);
        const check = await finished('commerce', checked.body.id);
        expect(check).to.include({ status: 'DONE', mode: 'check', rows: 5, documents: 4, fileName: 'licences.csv' });
        // The certificate is InspectionMSP's to issue: the chaincode says so, and the row is named.
        expect(check.results).to.include({ VALID: 1, INVALID: 3 });
        expect(await height(), 'a check writes nothing to the ledger').to.equal(before);

        const rows = await results('commerce', checked.body.id);
        expect(rows[0]).to.deep.equal(['Row', 'Type', 'Number', 'Result', 'Column', 'Problem', 'Ledger transaction']);
        const byRow = new Map(rows.slice(1).map((row) => [row[0], row]));
        expect(byRow.get('2')?.[3]).to.equal('valid (would be issued)');
        expect(byRow.get('3')?.[3], 'a goods line row has its document\'s result').to.equal('valid (would be issued)');
        expect(byRow.get('4')?.[4]).to.equal('useLimit; bulk');
        expect(byRow.get('4')?.[5]).to.equal('must be a whole number; must be true or false (是 or 否)');
        expect(byRow.get('5')?.slice(3, 5)).to.deep.equal(['invalid', 'holder']);
        expect(byRow.get('5')?.[5]).to.match(/Unified Social Credit Code/);
        expect(byRow.get('6')?.slice(3, 5)).to.deep.equal(['invalid', 'type']);
        expect(byRow.get('6')?.[5]).to.match(/InspectionMSP/);

        const submitted = await as<ImportView>('commerce', 'POST', `/v1/imports/${checked.body.id}/submission`);
        expect(submitted.status, submitted.text).to.equal(202);
        const submission = await finished('commerce', checked.body.id);
        expect(submission).to.include({ status: 'DONE', mode: 'submit' });
        expect(submission.results).to.include({ CREATED: 1, INVALID: 3, PENDING: 0 });
        const issued = await as<DocumentRecord>('customs', 'GET', `/v1/documents/LICENCE/${licence}`);
        expect(issued.status, issued.text).to.equal(200);
        expect(issued.body.permit?.goods.map((line) => [line.hsCode, line.quantity, line.unit])).to.deep.equal([[STEEL, 1000, 'TNE'], [SOYBEANS, 500, 'TNE']]);
        expect(issued.body.summary).to.deep.equal({ holderName: '上海远洋贸易有限公司' });
        expect(issued.body.validFrom).to.equal(new Date(`${from}T00:00:00+08:00`).toISOString());
        expect(issued.body.validTo, 'a validTo date runs to the end of its day').to.equal(new Date(`${to}T23:59:59+08:00`).toISOString());
        const content = await as<{ content: string }>('customs', 'GET', `/v1/documents/LICENCE/${licence}/content`);
        expect(JSON.parse(Buffer.from(content.body.content, 'base64').toString('utf8'))).to.deep.include({ content: { contract: 'C-7781' } });
        const created = (await results('commerce', checked.body.id)).find((row) => row[0] === '2');
        expect(created?.[3]).to.equal('issued');
        expect(created?.[6]).to.equal(issued.body.transactionId);

        // The same file again, submitted at once: nothing changes, not even the ledger's height.
        const afterFirst = await height();
        const again = await upload('commerce', file, 'mode=submit');
        expect(again.status, again.text).to.equal(202);
        const rerun = await finished('commerce', again.body.id);
        expect(rerun.results).to.include({ UNCHANGED: 1, INVALID: 3, CREATED: 0 });
        expect(await height(), 'a re-run writes nothing').to.equal(afterFirst);
        expect((await results('commerce', again.body.id)).find((row) => row[0] === '2')?.[6], 'an unchanged row names the transaction that issued it').to.equal(issued.body.transactionId);

        // A different document under a number the ledger already has is a conflict, not an amendment.
        const changed = file.replace('1000,TNE,上海远洋贸易有限公司', '999,TNE,上海远洋贸易有限公司');
        const conflicting = await finished('commerce', (await upload('commerce', changed, 'mode=submit')).body.id);
        expect(conflicting.results).to.include({ CONFLICT: 1, CREATED: 0 });
        expect((await as<DocumentRecord>('customs', 'GET', `/v1/documents/LICENCE/${licence}`)).body.version).to.equal(1);
    });

    it('reads an Excel workbook with Chinese headings, date cells and numbers, and a workbook of the template', async () => {
        const number = unique('LIC-XLSX');
        const workbook = new ExcelJS.Workbook();
        const sheet = workbook.addWorksheet('许可证');
        sheet.addRow(['单证类型', '编号', '持有企业', '生效时间', '失效时间', '进出口方向', '使用次数上限', '散装', '商品编码', '数量', '单位', '摘要.holderName']);
        sheet.getColumn(4).numFmt = 'yyyy-mm-dd';
        sheet.getColumn(5).numFmt = 'yyyy-mm-dd';
        const day = (iso: string): Date => new Date(`${iso}T00:00:00Z`);
        sheet.addRow(['LICENCE', number, EXPORTER_USCC, day(from), day(to), 'export', 3, true, STEEL, 250, 'TNE', '厦门进出口公司']);
        workbook.addWorksheet('说明').addRow(['this sheet is not read']);
        const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
        const answer = await upload('commerce', bytes, 'mode=submit', XLSX);
        expect(answer.status, answer.text).to.equal(202);
        const done = await finished('commerce', answer.body.id);
        expect(done.results, JSON.stringify(await results('commerce', answer.body.id))).to.include({ CREATED: 1 });
        const record = (await as<DocumentRecord>('customs', 'GET', `/v1/documents/LICENCE/${number}`)).body;
        expect(record.permit).to.deep.include({ direction: 'EXPORT', useLimit: 3, bulk: true });
        expect(record.validTo).to.equal(new Date(`${to}T23:59:59+08:00`).toISOString());

        const template = await fetch(`${harness.url}/v1/imports/template?format=xlsx&lang=zh`, { headers: { Authorization: `Bearer ${tokens.get('commerce') as string}` } });
        harness.checkAgainstContract('GET', '/v1/imports/template', template.status, template.headers.get('content-type') ?? '', undefined);
        expect(template.status).to.equal(200);
        const filled = Buffer.from(await template.arrayBuffer());
        const fromTemplate = await finished('commerce', (await upload('commerce', filled, 'mode=check', XLSX)).body.id);
        expect(fromTemplate.results, 'the template\'s licence is Commerce\'s to issue, its certificate Inspection\'s').to.include({ VALID: 1, INVALID: 1 });
    });

    it('names rows of one document that do not follow one another, and values its rows disagree on', async () => {
        const licence = unique('LIC-SPLIT');
        const file = csvOf([
            HEADINGS,
            ['LICENCE', licence, EXPORTER_USCC, from, to, 'EXPORT', 12, 'false', STEEL, 1000, 'TNE', '', ''],
            ['LICENCE', unique('LIC-MID'), EXPORTER_USCC, from, to, 'EXPORT', 12, 'false', STEEL, 1000, 'TNE', '', ''],
            ['LICENCE', licence, EXPORTER_USCC, from, to, 'EXPORT', 12, 'false', SOYBEANS, 10, 'TNE', '', ''],
            ['LICENCE', unique('LIC-DIFF'), EXPORTER_USCC, from, to, 'EXPORT', 12, 'false', STEEL, 1, 'TNE', '', ''],
            ['', '', OTHER_USCC, '', '', '', '', '', SOYBEANS, 2, 'TNE', '', ''],
        ]);
        const done = await finished('commerce', (await upload('commerce', file)).body.id);
        expect(done.results).to.include({ VALID: 2, INVALID: 2 });
        const byRow = new Map((await results('commerce', done.id, '?lang=zh')).slice(1).map((row) => [row[0], row]));
        expect(byRow.get('4')?.slice(3, 5)).to.deep.equal(['有误', 'number']);
        expect(byRow.get('4')?.[5]).to.equal(`LICENCE ${licence} is already on row 2 of this file: a document's rows follow one another`);
        expect(byRow.get('6')?.slice(4, 6)).to.deep.equal(['holder', 'differs from row 5, the document\'s first row: a document\'s rows repeat its values or leave them blank']);
        expect(byRow.get('5')?.[3], 'the whole document is invalid when one of its rows is').to.equal('有误');
    });

    it('streams a file of thousands of rows through, reporting progress as it goes', async () => {
        const rows: (string | number)[][] = [HEADINGS];
        for (let index = 0; index < 5000; index++) {
            rows.push(['LICENCE', `LIC-BULK-${index}`, EXPORTER_USCC, from, to, 'IMPORT', 1, 'false', STEEL, index + 1, 'TNE', '', '']);
        }
        // A document repeated across the reader's batches (rows are stored 500 documents at a time).
        rows.push(['LICENCE', 'LIC-BULK-7', EXPORTER_USCC, from, to, 'IMPORT', 1, 'false', STEEL, 8, 'TNE', '', '']);
        const answer = await upload('commerce', csvOf(rows));
        expect(answer.status, answer.text).to.equal(202);
        const done = await finished('commerce', answer.body.id);
        expect(done).to.include({ status: 'DONE', rows: 5001, documents: 5001, processed: 5001 });
        expect(done.results).to.include({ VALID: 5000, INVALID: 1 });
        const last = (await results('commerce', done.id)).at(-1);
        expect(last?.slice(0, 4)).to.deep.equal(['5002', 'LICENCE', 'LIC-BULK-7', 'invalid']);
        expect(last?.[5]).to.equal('LICENCE LIC-BULK-7 is already on row 9 of this file: a document\'s rows follow one another');
    });

    it('refuses what cannot be read, what is too large, and who may not import; an import is its agency\'s', async () => {
        const unknown = await upload('commerce', csvOf([[...HEADINGS, 'colour'], ['LICENCE']]));
        expect(unknown.status).to.equal(400);
        expect(unknown.body).to.deep.include({ field: 'body' });
        expect((unknown.body as unknown as { detail: string }).detail).to.include('row 1: column N ("colour") is not a column of a document import');
        const missing = await upload('commerce', csvOf([['type', 'number'], ['LICENCE', 'X']]));
        expect(missing.status).to.equal(400);
        expect(missing.text).to.include('no holder column');
        expect((await upload('commerce', '')).status).to.equal(400);
        expect((await upload('commerce', 'type,number', 'mode=check', 'text/csv; charset=latin1')).body).to.deep.include({ field: 'Content-Type' });
        expect((await upload('commerce', Buffer.alloc(2 * 1024 * 1024 + 1, 0x41))).status, 'over the limit').to.equal(413);
        expect((await upload('commerce', Buffer.from('PK\u0003\u0004 not a workbook'), 'mode=check', XLSX)).status).to.equal(400);

        // Bytes that are not UTF-8: refused at once when they come early, named by their row either way.
        const latin = (rows: (string | number)[][]): Buffer => Buffer.concat([Buffer.from(`${csvOf(rows)}\r\n`), Buffer.from('LICENCE,LIC-\xe9,', 'latin1')]);
        const early = await upload('commerce', latin([HEADINGS]));
        expect(early.status).to.equal(400);
        expect((early.body as unknown as { detail: string }).detail).to.match(/^row 2: the file is not UTF-8 text/);
        // Later in a large file: the import fails naming the row, and nothing of it is issued.
        const good = Array.from({ length: 2000 }, (_, index) => ['LICENCE', `LIC-LATE-${index}`, EXPORTER_USCC, from, to, 'EXPORT', 1, 'false', STEEL, 1, 'TNE', '', '']);
        const failed = await finished('commerce', (await upload('commerce', latin([HEADINGS, ...good]), 'mode=submit')).body.id);
        expect(failed.status).to.equal('FAILED');
        expect(failed.error).to.match(/^row 2002: the file is not UTF-8 text/);
        expect((await as('customs', 'GET', '/v1/documents/LICENCE/LIC-LATE-0')).status).to.equal(404);
        // The same text declared as GB 18030 is read (and the row is then checked like any other).
        const gb = Buffer.concat([
            Buffer.from(`${csvOf([HEADINGS, ['LICENCE', unique('LIC-GB'), EXPORTER_USCC, from, to, 'EXPORT', 1, 'false', STEEL, 5, 'TNE', '', '']])}`, 'ascii'),
            Buffer.from([0xb8, 0xa3, 0xbd, 0xa8]), // 福建, in GB 18030, as the contract cell
        ]);
        const gbImport = await finished('commerce', (await upload('commerce', gb, 'mode=check', 'text/csv; charset=gb18030')).body.id);
        expect(gbImport.results).to.include({ VALID: 1 });

        expect((await upload('exporter', csvOf([HEADINGS]))).status, 'enterprises do not issue documents').to.equal(403);
        expect((await upload('auditor', csvOf([HEADINGS]))).status, 'auditors do not write').to.equal(403);
        const own = await upload('commerce', csvOf([HEADINGS, ['LICENCE', unique('LIC-OWN'), EXPORTER_USCC, from, to, 'EXPORT', 1, 'false', STEEL, 1, 'TNE', '', '']]));
        expect((await as('customs', 'GET', `/v1/imports/${own.body.id}`)).status, 'another agency\'s import is not found').to.equal(404);
        expect((await as('auditor', 'GET', `/v1/imports/${own.body.id}`)).status).to.equal(200);
        const listed = await as<{ items: ImportView[] }>('customs', 'GET', '/v1/imports');
        expect(listed.body.items.map((item) => item.id)).to.not.include(own.body.id);
        const mine = await as<{ items: ImportView[]; nextCursor: string | null }>('commerce', 'GET', '/v1/imports?limit=2');
        expect(mine.body.items.map((item) => item.id)).to.deep.equal([own.body.id, mine.body.items[1]?.id]);
        const next = await as<{ items: ImportView[] }>('commerce', 'GET', `/v1/imports?limit=2&cursor=${mine.body.nextCursor as string}`);
        expect(next.body.items.map((item) => item.id)).to.not.include(own.body.id);
        await finished('commerce', own.body.id);
        expect((await as('commerce', 'POST', `/v1/imports/${failed.id}/submission`)).status, 'only a finished check is submitted').to.equal(409);
        expect(PERSONAS.commerce.org).to.equal('CommerceMSP');
    });

    it('refuses a workbook that would unpack a thousandfold before reading it', async () => {
        // Inline strings of one repeated letter: the worksheet part deflates about a thousandfold.
        const sink = new PassThrough();
        const chunks: Buffer[] = [];
        sink.on('data', (chunk: Buffer) => chunks.push(chunk));
        const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useSharedStrings: false, useStyles: false });
        const sheet = workbook.addWorksheet('Documents');
        sheet.addRow(HEADINGS).commit();
        const filler = 'A'.repeat(32_000);
        for (let index = 0; index < 300; index++) {
            sheet.addRow(['LICENCE', `LIC-Z-${index}`, EXPORTER_USCC, from, to, 'EXPORT', 1, 'false', STEEL, 1, 'TNE', filler, filler]).commit();
        }
        sheet.commit();
        await workbook.commit();
        const bytes = Buffer.concat(chunks);
        expect(bytes.length, 'the workbook itself is small').to.be.below(200_000);
        const answer = await upload('commerce', bytes, 'mode=check', XLSX);
        expect(answer.status, answer.text).to.equal(400);
        expect(answer.text).to.match(/unpacks \d+ times its packed size/);
    });

    it('goes on after a restart with the documents still PENDING, issuing each once, and marks a file left half-read INTERRUPTED', async () => {
        const rows: (string | number)[][] = [HEADINGS];
        for (let index = 0; index < 20; index++) {
            rows.push(['LICENCE', `LIC-RESUME-${index}`, EXPORTER_USCC, from, to, 'EXPORT', 1, 'false', STEEL, 10, 'TNE', '', '']);
        }
        const first = await finished('commerce', (await upload('commerce', csvOf(rows), 'mode=submit')).body.id);
        expect(first.results).to.include({ CREATED: 20 });
        const pool = harness.database.pool;
        // What a hub stopped mid-submission leaves: outcomes not yet stored, of documents the ledger
        // already holds (the second ten) and of documents never sent (five more).
        await pool.query("UPDATE imports SET status = 'SUBMITTING', finished_at = NULL WHERE id = $1", [first.id]);
        await pool.query("UPDATE import_documents SET result = 'PENDING', transaction_id = NULL WHERE import_id = $1 AND seq >= 10", [first.id]);
        await pool.query(
            `INSERT INTO import_documents (import_id, seq, rows, document_key, type, number, request, content, result, problems)
             SELECT import_id, seq + 20, jsonb_build_array((rows->>0)::int + 20), 'LICENCE/LIC-RESUME-' || (seq + 20), type, 'LIC-RESUME-' || (seq + 20),
                    replace(request, number, 'LIC-RESUME-' || (seq + 20)), replace(content, number, 'LIC-RESUME-' || (seq + 20)), 'PENDING', '[]'
               FROM import_documents WHERE import_id = $1 AND seq < 5`, [first.id]);
        await pool.query(
            `INSERT INTO imports (id, organisation, principal, format, file_bytes, file_sha256, headings, time_zone, mode, status)
             VALUES ('00000000-0000-4000-8000-000000000001', 'CommerceMSP', $1, 'csv', 1, repeat('0', 64), '[]', '+08:00', 'submit', 'READING')`,
            [JSON.stringify(PERSONAS.commerce)]);
        await harness.gateway.stop();
        const restarted = await startGateway({
            pool, ledger: harness.ledger, logger: pino({ level: 'silent' }), port: 0, host: '127.0.0.1',
            tokenKeyFile: `${harness.keyDir}/token.pem`, proofKeyFile: `${harness.keyDir}/proof.pem`,
        });
        try {
            const read = async <T>(path: string): Promise<T> => (await (await fetch(`${restarted.url}${path}`, { headers: { Authorization: `Bearer ${tokens.get('commerce') as string}` } })).json()) as T;
            const resumed = await until(async () => {
                const current = await read<ImportView>(`/v1/imports/${first.id}`);
                return current.status === 'DONE' && current;
            }, 'the import to go on and finish');
            expect(resumed.results).to.include({ CREATED: 15, UNCHANGED: 10, PENDING: 0 });
            for (let index = 0; index < 25; index++) {
                const record = await read<DocumentRecord>(`/v1/documents/LICENCE/LIC-RESUME-${index}`);
                expect(record.version, `LIC-RESUME-${index} issued once`).to.equal(1);
            }
            const issuing = await pool.query<{ transaction_id: string; number: string }>("SELECT transaction_id, number FROM import_documents WHERE import_id = $1 AND seq BETWEEN 10 AND 19", [first.id]);
            for (const row of issuing.rows) {
                expect(row.transaction_id, `${row.number}: the transaction that issued it before the restart`).to.equal((await read<DocumentRecord>(`/v1/documents/LICENCE/${row.number}`)).transactionId);
            }
            const interrupted = await read<ImportView>('/v1/imports/00000000-0000-4000-8000-000000000001');
            expect(interrupted).to.include({ status: 'INTERRUPTED' });
            expect(interrupted.error).to.match(/upload it again/);
        } finally {
            await restarted.stop();
        }
    });

    it('has exercised the import routes, each answer checked against the OpenAPI document', () => {
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 3).join(' ')));
        const expected = [
            'POST /v1/imports 202', 'POST /v1/imports 400', 'POST /v1/imports 403', 'POST /v1/imports 413', 'GET /v1/imports 200', 'GET /v1/imports/template 200',
            'GET /v1/imports/{id} 200', 'GET /v1/imports/{id} 404', 'POST /v1/imports/{id}/submission 202', 'POST /v1/imports/{id}/submission 409', 'GET /v1/imports/{id}/results 200',
        ];
        expect(expected.filter((entry) => !seen.has(entry))).to.deep.equal([]);
    });
});
