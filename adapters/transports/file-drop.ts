import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { Delivery, FeedPage, Transport } from '../feed-contract';
import { parseCsv } from './csv';

/** The largest file the transport reads, unless the adapter's `maxFileBytes` says otherwise. */
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024;

type Feed = 'outbox' | 'inbox';

export type FileDropOptions = Readonly<{
    /** The folder the agency system drops files into and picks deliveries up from. */
    folder: string;
    /** Files larger than this go to failed/ unread. */
    maxFileBytes?: number;
}>;

/** A file the transport will not read, with the reason it writes beside it in failed/. */
class Unreadable extends Error {}

/**
 * The `file-drop` transport, for agency systems that exchange files rather than run a feed:
 *
 *   <folder>/outbox/    files the agency drops: what it sent (records as in the http-feed outbox)
 *   <folder>/inbox/     files of what it received and decided (records as in the inbox feed)
 *   <folder>/processed/ files whose every record the ledger took (or quarantined), moved here
 *   <folder>/failed/    files that could not be read at all, each with <name>.reason.txt
 *   <folder>/deliveries/ relayed payloads written for the agency to pick up
 *
 * Every file dropped into outbox/ or inbox/ is read, whatever its name and whenever it arrives:
 * it is processed, or failed with a reason, or still waiting (counted in the adapter's health).
 * Files are read in name order, one file a page. JSON holds one record or an array of them; CSV
 * has a header row of field names (dotted for nested fields: document.type); XML holds
 * <records><record>…</record></records> with one element per field, or is one foreign
 * authority's signed certificate (customs and inspection), read as one record and passed on
 * whole. Agency systems should write a file under a name starting with a dot and rename it when
 * complete: dot-files are not read.
 *
 * The transport touches nothing outside its folder: a symbolic link, in place of a file or of one
 * of the sub-folders, is never followed.
 */
export class FileDropTransport implements Transport {
    private readonly xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: false, isArray: (name) => name === 'record' });
    private readonly maxFileBytes: number;

    constructor(private readonly options: FileDropOptions) {
        this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    }

    async outbox(after: string): Promise<FeedPage<unknown>> {
        return this.page('outbox', after);
    }

    async inbox(after: string): Promise<FeedPage<unknown>> {
        return this.page('inbox', after);
    }

    async deliver(delivery: Delivery): Promise<{ stored: boolean; payloadHash?: string }> {
        const folder = await this.subfolder('deliveries');
        const payload = Buffer.from(delivery.payload, 'base64');
        const name = `${delivery.sender}_${delivery.messageId}`.replace(/[^A-Za-z0-9._-]/g, '_');
        await writeInside(join(folder, `${name}.json`), JSON.stringify({ ...delivery, payload: undefined, payloadFile: `${name}.payload` }, null, 2));
        await writeInside(join(folder, `${name}.payload`), payload);
        return { stored: true, payloadHash: sha256(payload) };
    }

    /** Files the ledger has fully taken go to processed/ (unless the agency has since replaced them). */
    async committed(feed: Feed, cursor: string): Promise<void> {
        const read = parseCursor(cursor);
        if (!read) {
            return;
        }
        const path = join(await this.subfolder(feed), read.name);
        const bytes = await this.read(path).catch(() => undefined);
        if (bytes && sha256(bytes) === read.hash) {
            await this.fileAway(feed, read.name, 'processed', `${feed}-${read.name}`);
        }
    }

    /** Files dropped into each feed's folder and not yet read. */
    async waiting(): Promise<number> {
        let count = 0;
        for (const feed of ['outbox', 'inbox'] as const) {
            count += (await this.dropped(await this.subfolder(feed))).length;
        }
        return count;
    }

    /**
     * The first file of a feed, as records. A file that cannot be read goes to failed/ with its
     * reason; the file a cursor names, committed but not yet moved (a crash between the two), is
     * moved now rather than read again.
     */
    private async page(feed: Feed, after: string): Promise<FeedPage<unknown>> {
        const folder = await this.subfolder(feed);
        const committed = parseCursor(after);
        for (const name of await this.dropped(folder)) {
            const path = join(folder, name);
            try {
                const bytes = await this.read(path);
                const hash = sha256(bytes);
                if (committed?.name === name && committed.hash === hash) {
                    await this.fileAway(feed, name, 'processed', `${feed}-${name}`);
                    continue;
                }
                return { items: await this.parse(name, bytes), next: `${hash}/${name}` };
            } catch (error) {
                if (!(error instanceof Unreadable)) {
                    throw error;
                }
                await this.fileAway(feed, name, 'failed', name, error.message);
            }
        }
        return { items: [], next: after };
    }

    /** Names of the files in a feed's folder, in name order: dot-files are still being written. */
    private async dropped(folder: string): Promise<string[]> {
        return (await readdir(folder)).filter((name) => !name.startsWith('.')).sort();
    }

    /** A file's bytes, never through a symbolic link, never beyond the size limit. */
    private async read(path: string): Promise<Buffer> {
        let handle;
        try {
            handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
                throw new Unreadable('is a symbolic link: the adapter reads only files placed in the folder itself');
            }
            throw error;
        }
        try {
            const stats = await handle.stat();
            if (!stats.isFile()) {
                throw new Unreadable('is not a regular file');
            }
            if (stats.size > this.maxFileBytes) {
                throw new Unreadable(`is ${stats.size} bytes; files may be at most ${this.maxFileBytes} bytes (the adapter's maxFileBytes)`);
            }
            return await handle.readFile();
        } finally {
            await handle.close();
        }
    }

    /**
     * A sub-folder of the transport's folder, created if missing; refused when it is a symbolic
     * link or not a folder, since the adapter would then read or move another folder's files.
     */
    private async subfolder(name: string): Promise<string> {
        const path = join(this.options.folder, name);
        const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') {
                return undefined;
            }
            throw error;
        });
        if (!stats) {
            await mkdir(path, { recursive: true });
        } else if (stats.isSymbolicLink() || !stats.isDirectory()) {
            throw new Error(`${path} is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}: the file-drop adapter uses only real folders inside ${this.options.folder}`);
        }
        return path;
    }

    /**
     * Moves a file (or a link, never its target) out of its feed's folder into processed/ or
     * failed/, under a name no earlier file there holds, with its reason beside it when it failed.
     */
    private async fileAway(feed: Feed, name: string, into: 'processed' | 'failed', wanted: string, reason?: string): Promise<void> {
        const folder = await this.subfolder(into);
        const taken = (name: string): Promise<boolean> => lstat(join(folder, name)).then(() => true, () => false);
        let target = wanted;
        for (let copy = 2; await taken(target) || (reason !== undefined && await taken(`${target}.reason.txt`)); copy++) {
            target = `${wanted}.${copy}`;
        }
        if (reason !== undefined) {
            await writeInside(join(folder, `${target}.reason.txt`), `${reason}\n`);
        }
        await rename(join(this.options.folder, feed, name), join(folder, target)).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') {
                throw error;
            }
        });
    }

    private async parse(name: string, bytes: Buffer): Promise<unknown[]> {
        let text: string;
        try {
            text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
            throw new Unreadable('is not UTF-8 text');
        }
        switch (extname(name).toLowerCase()) {
            case '.json': {
                let value: unknown;
                try {
                    value = JSON.parse(text);
                } catch (error) {
                    throw new Unreadable(`is not well-formed JSON: ${(error as Error).message}`);
                }
                return Array.isArray(value) ? value : [value];
            }
            case '.csv':
                try {
                    return await parseCsv(text);
                } catch (error) {
                    throw new Unreadable((error as Error).message);
                }
            case '.xml': {
                // No document type declarations at all: no entities to expand, nothing external to fetch.
                if (/<!(DOCTYPE|ENTITY)/i.test(text)) {
                    throw new Unreadable('an XML file may not declare a document type or entities');
                }
                if (SIGNED_CERTIFICATE.test(text)) {
                    // A foreign authority's signed certificate, passed on whole: its signature covers these very bytes.
                    return [{ kind: 'foreign-certificate', xml: bytes.toString('base64') }];
                }
                let document: { records?: { record?: unknown[] } | '' };
                try {
                    document = this.xml.parse(text, true) as typeof document;
                } catch (error) {
                    throw new Unreadable(`is not well-formed XML: ${(error as Error).message}`);
                }
                if (document.records === undefined) {
                    throw new Unreadable('an XML file must hold <records><record>…</record></records>');
                }
                return typeof document.records === 'object' ? document.records.record ?? [] : [];
            }
            default:
                throw new Unreadable(`files must be .json, .csv or .xml, not ${extname(name) || 'without an extension'}`);
        }
    }
}

/** An XML file whose root is a foreign certificate (`<Certificate xmlns="urn:counterfoil:foreign-certificate:1">`, any prefix). */
const SIGNED_CERTIFICATE = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<(?:[A-Za-z_][\w.-]*:)?Certificate\s[^>]*urn:counterfoil:foreign-certificate:1/;

function sha256(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The cursor names the last file read and the SHA-256 of its bytes. A cursor of an earlier version
 * (the name alone) passes over nothing: a file under that name is read again, its records being
 * idempotent on the ledger, rather than perhaps never.
 */
function parseCursor(cursor: string): { name: string; hash: string } | undefined {
    const match = /^([0-9a-f]{64})\/(.+)$/.exec(cursor);
    return match ? { hash: match[1] as string, name: match[2] as string } : undefined;
}

/** Writes a file, refusing to write through a symbolic link planted in its place. */
async function writeInside(path: string, data: string | Uint8Array): Promise<void> {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
        await handle.writeFile(data);
    } finally {
        await handle.close();
    }
}
