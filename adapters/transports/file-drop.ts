import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { Delivery, FeedPage, Transport } from '../feed-contract';

/**
 * The `file-drop` transport, for agency systems that exchange files rather than run a feed:
 *
 *   <folder>/outbox/    files the agency drops: what it sent (records as in the http-feed outbox)
 *   <folder>/inbox/     files of what it received and decided (records as in the inbox feed)
 *   <folder>/processed/ files whose every record the ledger took (or quarantined), moved here
 *   <folder>/failed/    files that could not be read at all, each with <name>.reason.txt
 *   <folder>/deliveries/ relayed payloads written for the agency to pick up
 *
 * Files are read in name order, one file a page. JSON holds one record or an array of them;
 * CSV has a header row of field names (dotted for nested fields: document.type); XML holds
 * <records><record>…</record></records> with one element per field.
 */
export class FileDropTransport implements Transport {
    private readonly xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'record' });

    constructor(private readonly folder: string) {}

    async outbox(after: string): Promise<FeedPage<unknown>> {
        return this.page('outbox', after);
    }

    async inbox(after: string): Promise<FeedPage<unknown>> {
        return this.page('inbox', after);
    }

    async deliver(delivery: Delivery): Promise<{ stored: boolean; payloadHash?: string }> {
        const folder = join(this.folder, 'deliveries');
        await mkdir(folder, { recursive: true });
        const payload = Buffer.from(delivery.payload, 'base64');
        const name = `${delivery.sender}_${delivery.messageId}`.replace(/[^A-Za-z0-9._-]/g, '_');
        await writeFile(join(folder, `${name}.json`), JSON.stringify({ ...delivery, payload: undefined, payloadFile: `${name}.payload` }, null, 2));
        await writeFile(join(folder, `${name}.payload`), payload);
        return { stored: true, payloadHash: createHash('sha256').update(payload).digest('hex') };
    }

    /** Files the ledger has fully taken go to processed/. */
    async committed(feed: 'outbox' | 'inbox', cursor: string): Promise<void> {
        if (!cursor) {
            return;
        }
        const processed = join(this.folder, 'processed');
        await mkdir(processed, { recursive: true });
        await rename(join(this.folder, feed, cursor), join(processed, `${feed}-${cursor}`)).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') {
                throw error;
            }
        });
    }

    /** The first file of a feed, as records; a file that cannot be read goes to failed/ with its reason. */
    private async page(feed: 'outbox' | 'inbox', after: string): Promise<FeedPage<unknown>> {
        const folder = join(this.folder, feed);
        await mkdir(folder, { recursive: true });
        for (const name of (await readdir(folder)).filter((file) => !file.startsWith('.')).sort()) {
            if (after && name <= after) {
                continue; // committed, but not yet moved (a crash between the two)
            }
            try {
                return { items: this.parse(name, await readFile(join(folder, name), 'utf8')), next: name };
            } catch (error) {
                const failed = join(this.folder, 'failed');
                await mkdir(failed, { recursive: true });
                await rename(join(folder, name), join(failed, name));
                await writeFile(join(failed, `${name}.reason.txt`), `${(error as Error).message}\n`);
            }
        }
        return { items: [], next: after };
    }

    private parse(name: string, text: string): unknown[] {
        switch (extname(name).toLowerCase()) {
            case '.json': {
                const value = JSON.parse(text) as unknown;
                return Array.isArray(value) ? value : [value];
            }
            case '.csv':
                return parseCsv(text);
            case '.xml': {
                const document = this.xml.parse(text, true) as { records?: { record?: unknown[] } | '' };
                if (document.records === undefined) {
                    throw new Error('an XML file must hold <records><record>…</record></records>');
                }
                return typeof document.records === 'object' ? document.records.record ?? [] : [];
            }
            default:
                throw new Error(`files must be .json, .csv or .xml, not ${extname(name) || 'without an extension'}`);
        }
    }
}

/** RFC 4180 CSV with a header row; dotted headers make nested objects, `size` is a number. */
export function parseCsv(text: string): Record<string, unknown>[] {
    const rows: string[][] = [];
    let row: string[] = [];
    let field = '';
    let quoted = false;
    for (let index = 0; index < text.length; index++) {
        const character = text[index] as string;
        if (quoted) {
            if (character === '"' && text[index + 1] === '"') {
                field += '"';
                index++;
            } else if (character === '"') {
                quoted = false;
            } else {
                field += character;
            }
        } else if (character === '"' && field === '') {
            quoted = true;
        } else if (character === ',') {
            row.push(field);
            field = '';
        } else if (character === '\n' || character === '\r') {
            if (character === '\r' && text[index + 1] === '\n') {
                index++;
            }
            row.push(field);
            rows.push(row);
            row = [];
            field = '';
        } else {
            field += character;
        }
    }
    if (quoted) {
        throw new Error('a quoted CSV field is not closed');
    }
    if (field !== '' || row.length > 0) {
        row.push(field);
        rows.push(row);
    }
    const [header, ...records] = rows.filter((line) => line.some((cell) => cell !== ''));
    if (!header) {
        return [];
    }
    return records.map((cells, line) => {
        if (cells.length !== header.length) {
            throw new Error(`CSV line ${line + 2} has ${cells.length} fields, the header ${header.length}`);
        }
        const record: Record<string, unknown> = {};
        header.forEach((name, column) => {
            const value = cells[column] as string;
            if (value === '') {
                return;
            }
            const path = name.trim().split('.');
            let target = record;
            for (const part of path.slice(0, -1)) {
                target = (target[part] ??= {}) as Record<string, unknown>;
            }
            const last = path.at(-1) as string;
            target[last] = last === 'size' ? Number(value) : value;
        });
        return record;
    });
}
