import { ExportCursor, sendTable } from '../exports/export';
import { CONTENT_TYPES, EXPORT_FORMATS, type ExportFormat, type Language, LANGUAGES, tableWriter } from '../exports/tables';
import { Problem } from '../http/problem';
import { IMPORT_COLUMNS } from '../imports/layout';
import { type ImportFormat, type ImportMode, IMPORT_MODES, type ImportService, RESULT_COLUMNS } from '../imports/imports';
import { CSV_CHARSETS } from '../imports/sheets';
import type { RouteSpec } from '../openapi/api';
import { pageLimit } from '../queries/cursor';
import { PARAMETERS } from './parameters';

const XLSX = CONTENT_TYPES.xlsx;
const importId = { id: { type: 'string', format: 'uuid' } } as const;
const table = {
    format: { type: 'string', enum: [...EXPORT_FORMATS], description: 'csv (UTF-8, the default) or xlsx' },
    lang: { type: 'string', enum: [...LANGUAGES], description: 'the language of the column headings (default en)' },
} as const;
const tableResponse = (description: string): RouteSpec['responses'] => ({
    200: { description, schema: { type: 'string' }, contentType: Object.values(CONTENT_TYPES).map((type) => type.split(';')[0] as string) },
});

/** The character set a CSV upload declares (UTF-8 when it names none); GB 2312 and GBK are read as their superset GB 18030. */
function charsetOf(contentType: string | undefined): (typeof CSV_CHARSETS)[number] {
    const declared = /;\s*charset\s*=\s*"?([A-Za-z0-9_-]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
    if (declared === undefined || declared === 'utf-8' || declared === 'utf8') {
        return 'utf-8';
    }
    if (declared === 'gb18030' || declared === 'gbk' || declared === 'gb2312') {
        return 'gb18030';
    }
    throw new Problem('INVALID_ARGUMENT', `a CSV import is read as UTF-8 or GB 18030, not ${declared}`, 'Content-Type');
}

/** Example rows of the template, valid from today for a year: a licence of two goods lines, and a certificate of origin. */
function templateRows(now: Date): (string | number)[][] {
    const day = (years: number): string => new Date(Date.UTC(now.getUTCFullYear() + years, now.getUTCMonth(), now.getUTCDate())).toISOString().slice(0, 10);
    const [from, to] = [day(0), day(1)];
    return [
        ['LICENCE', `LIC-${from.slice(0, 4)}-0001`, '91350100M000100Y43', from, to, 'EXPORT', 12, 'false', '8471300000', 1000, 'PCE', 'Fujian Trading Co.', 'C-7781'],
        ['LICENCE', `LIC-${from.slice(0, 4)}-0001`, '', '', '', '', '', '', '8473302000', 500, 'KGM', '', ''],
        ['ORIGIN_CERT', `CO-${from.slice(0, 4)}-0042`, '91350100M000100Y43', from, to, 'EXPORT', 1, 'false', '8471300000', 1000, 'PCE', 'Fujian Trading Co.', ''],
    ];
}

export function importRoutes(imports: ImportService): RouteSpec[] {
    return [
        {
            method: 'post', path: '/v1/imports', tag: 'Imports',
            rawBody: { contentType: ['text/csv', XLSX], description: 'The file: CSV (UTF-8, or GB 18030 declared as charset=gb18030) or an Excel workbook (its first worksheet)', stream: true },
            query: {
                mode: { type: 'string', enum: [...IMPORT_MODES], description: 'check (the default): report every bad row and write nothing; submit: issue the good rows' },
                zone: { type: 'string', pattern: '^[+-](0[0-9]|1[0-9]|2[0-3]):[0-5][0-9]$', description: 'the time zone of dates written without one (default +08:00); a validTo date means the end of that day' },
                name: { type: 'string', minLength: 1, maxLength: 255, description: 'the file\'s name, kept with the import' },
            },
            summary: 'Import documents (licences with their goods lines, certificates) from CSV or Excel: one row per goods line, each document idempotent by its number (agency operators and administrators)',
            responses: { 202: { description: 'Accepted: the headings were read; the rows are read and looked at after (follow GET /v1/imports/{id})', schema: 'Import' } },
            handler: async ({ principal, query, request }) => {
                const format: ImportFormat = request.is('text/csv') ? 'csv' : 'xlsx';
                const declared = Number(request.get('content-length'));
                const started = await imports.receive(principal, request, {
                    format, charset: format === 'csv' ? charsetOf(request.get('content-type')) : 'utf-8', mode: (query.mode ?? 'check') as ImportMode,
                    timeZone: query.zone ?? '+08:00', fileName: query.name, declaredBytes: Number.isFinite(declared) ? declared : undefined,
                });
                return { status: 202, body: started, headers: { Location: `/v1/imports/${started.id}` } };
            },
        },
        {
            method: 'get', path: '/v1/imports', tag: 'Imports', query: { cursor: PARAMETERS.cursor, limit: PARAMETERS.limit },
            summary: 'List imports, newest first (an agency\'s own; auditors: every agency\'s)',
            responses: { 200: { description: 'A page of imports', schema: 'ImportPage' } },
            handler: async ({ principal, query }) => ({ status: 200, body: await imports.list(principal, query.cursor, pageLimit(query.limit)) }),
        },
        {
            method: 'get', path: '/v1/imports/template', tag: 'Imports', query: table,
            summary: 'A file to fill in: the headings an import reads, with example rows (a licence of two goods lines, a certificate of origin)',
            responses: tableResponse('The template'),
            handler: async ({ query, response }) => {
                const format = (query.format ?? 'csv') as ExportFormat;
                const language = (query.lang ?? 'en') as Language;
                const summaryWord = language === 'zh' ? '摘要' : 'summary';
                const contentWord = language === 'zh' ? '内容' : 'content';
                const columns = [...Object.values(IMPORT_COLUMNS), { en: `${summaryWord}.holderName`, zh: `${summaryWord}.holderName` }, { en: `${contentWord}.contract`, zh: `${contentWord}.contract` }];
                response.status(200).setHeader('Content-Type', CONTENT_TYPES[format]);
                response.setHeader('Content-Disposition', `attachment; filename="counterfoil-import-template-${language}.${format}"`);
                const writer = tableWriter(format, response, 'Documents', columns, language);
                await writer.rows(templateRows(new Date()));
                await writer.end();
                return { handled: true };
            },
        },
        {
            method: 'get', path: '/v1/imports/{id}', tag: 'Imports', params: importId,
            summary: 'An import\'s progress and results: rows read, documents looked at, how many of each result',
            responses: { 200: { description: 'The import', schema: 'Import' } },
            handler: async ({ principal, params }) => ({ status: 200, body: await imports.get(principal, params.id as string) }),
        },
        {
            method: 'post', path: '/v1/imports/{id}/submission', tag: 'Imports', params: importId,
            summary: 'Submit a finished check: every document its file makes is looked at again on the ledger, and the good ones issued',
            responses: { 202: { description: 'Accepted: the import is SUBMITTING', schema: 'Import' } },
            handler: async ({ principal, params }) => ({ status: 202, body: await imports.submitChecked(principal, params.id as string) }),
        },
        {
            method: 'get', path: '/v1/imports/{id}/results', tag: 'Imports', params: importId, query: table,
            summary: 'The per-row results: each row\'s document, what became of it, and the column and rule of each problem',
            responses: tableResponse('The results, a row of the file per line'),
            handler: async ({ principal, params, query, response }) => {
                const found = await imports.get(principal, params.id as string);
                const language = (query.lang ?? 'en') as Language;
                const cursor = await ExportCursor.open(imports.pool, imports.resultsQuery(found.id, language));
                await sendTable(response, cursor, { format: (query.format ?? 'csv') as ExportFormat, fileName: `counterfoil-import-${found.id}-results`, sheet: 'Results', columns: RESULT_COLUMNS, language });
                return { handled: true };
            },
        },
    ];
}
