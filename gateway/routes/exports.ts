import { DATASET_NAMES, DATASETS, type DatasetName, scopeOf } from '../exports/datasets';
import { ExportCursor, sendTable } from '../exports/export';
import { CONTENT_TYPES, EXPORT_FORMATS, type ExportFormat, type Language, LANGUAGES } from '../exports/tables';
import { Problem } from '../http/problem';
import type { RouteSpec } from '../openapi/api';
import type { Services } from '../services';
import { PARAMETERS } from './parameters';

export function exportRoutes(services: Services): RouteSpec[] {
    return [{
        method: 'get', path: '/v1/exports/{dataset}', tag: 'Exports',
        params: { dataset: { type: 'string', enum: DATASET_NAMES } },
        query: {
            from: { ...PARAMETERS.dateTime, required: true, description: 'the range\'s start (inclusive): issued, verified, sent or opened at or after' },
            to: { ...PARAMETERS.dateTime, required: true, description: 'the range\'s end (exclusive)' },
            format: { type: 'string', enum: [...EXPORT_FORMATS], description: 'csv (UTF-8, the default) or xlsx' },
            lang: { type: 'string', enum: [...LANGUAGES], description: 'the language of the column headings (default en)' },
        },
        summary: 'Export documents, verifications, handoffs with their timelines, or cases over a date range, as CSV or Excel (enterprises: their own; agencies: what they may list; auditors: everything)',
        responses: { 200: { description: 'The rows, streamed, oldest first; text that a spreadsheet would take for a formula starts with an apostrophe', schema: { type: 'string' }, contentType: Object.values(CONTENT_TYPES).map((type) => type.split(';')[0] as string) } },
        handler: async ({ principal, params, query, response }) => {
            const from = query.from as string;
            const to = query.to as string;
            if (Date.parse(from) >= Date.parse(to)) {
                throw new Problem('INVALID_ARGUMENT', 'to must come after from', 'to');
            }
            const name = params.dataset as DatasetName;
            const format = (query.format ?? 'csv') as ExportFormat;
            const dataset = DATASETS[name];
            const cursor = await ExportCursor.open(services.pool, { sql: dataset.sql, values: dataset.values(scopeOf(principal, from, to)), cells: dataset.cells });
            const day = (instant: string): string => new Date(instant).toISOString().slice(0, 10);
            await sendTable(response, cursor, { format, fileName: `counterfoil-${name}-${day(from)}-${day(to)}`, sheet: dataset.sheet, columns: dataset.columns, language: (query.lang ?? 'en') as Language });
            return { handled: true };
        },
    }];
}
