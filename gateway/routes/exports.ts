import { DATASET_NAMES, DATASETS, type DatasetName, scopeOf } from '../exports/datasets';
import { ExportCursor, writeExport } from '../exports/export';
import { CONTENT_TYPES, EXPORT_FORMATS, type ExportFormat, type Language, LANGUAGES, tableWriter } from '../exports/tables';
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
            const cursor = await ExportCursor.open(services.pool, dataset, scopeOf(principal, from, to));
            const day = (instant: string): string => new Date(instant).toISOString().slice(0, 10);
            response.status(200);
            response.setHeader('Content-Type', CONTENT_TYPES[format]);
            response.setHeader('Content-Disposition', `attachment; filename="counterfoil-${name}-${day(from)}-${day(to)}.${format}"`);
            response.setHeader('Cache-Control', 'no-store');
            try {
                await writeExport(cursor, tableWriter(format, response, dataset.sheet, dataset.columns, (query.lang ?? 'en') as Language), () => response.destroyed);
            } catch {
                // The headers are out: a download cut short must not look complete. Breaking the
                // connection leaves the chunked body without its end, which every client reports.
                response.destroy();
            }
            return { handled: true };
        },
    }];
}
