import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import subsetFont from 'subset-font';
import { PDFArray, PDFDict, PDFDocument, type PDFFont, PDFHexString, PDFName, type PDFPage, PDFRawStream, PDFStream, rgb } from 'pdf-lib';
import { type Statement, sha256Hex, type StatementSigner } from './statement';

const STATEMENT_KEY = 'CounterfoilStatement';
const SIGNATURE_KEY = 'CounterfoilSignature';
const A4: [number, number] = [595.28, 841.89];
const MARGIN = 50;
/** Wide enough for a 64-character SHA-256 on one line, so it can be copied whole. */
const LABEL_WIDTH = 105;

let fontBytes: Promise<Buffer> | undefined;

/**
 * Noto Sans SC from its npm package, cut down by HarfBuzz to the characters this PDF draws, so
 * Chinese enterprise and agency names render at a few kilobytes instead of ten megabytes.
 * (HarfBuzz, not pdf-lib's own subsetting, which loses glyphs of this font.)
 */
async function cjkFont(text: string): Promise<Buffer> {
    const require = createRequire(__filename);
    fontBytes ??= readFile(require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf'));
    // Without GSUB and GPOS each character is exactly one glyph: what is drawn is what a reader
    // extracts (no ligatures, no alternate digits). dropTables is newer than its type declarations.
    const options: Parameters<typeof subsetFont>[2] & { dropTables: string[] } = { targetFormat: 'truetype', dropTables: ['GSUB', 'GPOS'] };
    return subsetFont(await fontBytes, `${text}0123456789/·- `, options);
}

function allText(content: PdfContent): string {
    return [content.title, content.subtitle, content.footer, ...content.sections.flatMap((section) => [section.heading, ...section.rows.flat()])].join('');
}

export interface Section {
    readonly heading: string;
    readonly rows: readonly (readonly [string, string])[];
}

export interface PdfContent {
    readonly title: string;
    readonly subtitle: string;
    readonly sections: readonly Section[];
    readonly footer: string;
}

/** Lays out a titled document of label/value sections, wrapping long values (hashes, ids) as needed. */
async function layout(content: PdfContent): Promise<PDFDocument> {
    const document = await PDFDocument.create();
    document.registerFontkit(fontkit);
    const font = await document.embedFont(await cjkFont(allText(content)), { subset: false });
    document.setTitle(content.title);
    document.setProducer('Counterfoil');
    document.setCreator('Counterfoil hub');
    let page = document.addPage(A4);
    let y = A4[1] - MARGIN;
    const newPageIfNeeded = (height: number): void => {
        if (y - height < MARGIN + 30) {
            page = document.addPage(A4);
            y = A4[1] - MARGIN;
        }
    };
    const write = (target: PDFPage, text: string, x: number, size: number, colour = rgb(0.1, 0.12, 0.15)): void => {
        target.drawText(text, { x, y, size, font, color: colour });
    };
    write(page, content.title, MARGIN, 18);
    y -= 24;
    for (const line of wrap(content.subtitle, font, 10, A4[0] - MARGIN * 2)) {
        write(page, line, MARGIN, 10, rgb(0.35, 0.38, 0.42));
        y -= 14;
    }
    y -= 14;
    for (const section of content.sections) {
        newPageIfNeeded(40);
        write(page, section.heading, MARGIN, 12.5, rgb(0.05, 0.25, 0.45));
        y -= 18;
        for (const [label, value] of section.rows) {
            const lines = wrap(value, font, 9.5, A4[0] - MARGIN * 2 - LABEL_WIDTH);
            newPageIfNeeded(14 * lines.length);
            write(page, label, MARGIN, 9.5, rgb(0.35, 0.38, 0.42));
            for (const line of lines) {
                write(page, line, MARGIN + LABEL_WIDTH, 9.5);
                y -= 14;
            }
        }
        y -= 10;
    }
    for (const [index, each] of document.getPages().entries()) {
        each.drawText(`${content.footer}  ·  ${index + 1}/${document.getPageCount()}`, { x: MARGIN, y: MARGIN - 10, size: 7.5, font, color: rgb(0.45, 0.47, 0.5) });
    }
    return document;
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
    const lines: string[] = [];
    let current = '';
    for (const character of text) {
        if (font.widthOfTextAtSize(current + character, size) > width && current) {
            lines.push(current);
            current = '';
        }
        current += character;
    }
    lines.push(current);
    return lines;
}

/** SHA-256 over every page's content streams, exactly as stored in the file. */
export function contentDigest(document: PDFDocument): string {
    const parts: Uint8Array[] = [];
    for (const page of document.getPages()) {
        const contents = page.node.Contents();
        const streams = contents instanceof PDFArray ? contents.asArray().map((entry) => document.context.lookup(entry)) : [contents];
        for (const stream of streams) {
            if (stream instanceof PDFRawStream) {
                parts.push(stream.contents);
            } else if (stream instanceof PDFStream) {
                parts.push(stream.getContents());
            }
        }
    }
    return sha256Hex(Buffer.concat(parts));
}

/** Renders the PDF as it is, unsigned (reports whose reader checks them against their own copy of the ledger). */
export async function renderPlain(content: PdfContent): Promise<Uint8Array> {
    return (await layout(content)).save({ useObjectStreams: false });
}

/**
 * Renders the PDF, then signs a statement that includes the digest of its pages and stores the
 * statement and signature in the document information dictionary.
 */
export async function renderSigned(content: PdfContent, statement: Omit<Statement, 'contentDigest'>, signer: StatementSigner): Promise<Uint8Array> {
    const draft = await (await layout(content)).save({ useObjectStreams: false });
    const document = await PDFDocument.load(draft, { updateMetadata: false });
    const signed: Statement = { ...statement, contentDigest: contentDigest(document) };
    let info = infoDictionary(document);
    if (!info) {
        info = document.context.obj({});
        document.context.trailerInfo.Info = document.context.register(info);
    }
    info.set(PDFName.of(STATEMENT_KEY), PDFHexString.of(Buffer.from(JSON.stringify(signed), 'utf8').toString('hex')));
    info.set(PDFName.of(SIGNATURE_KEY), PDFHexString.of(signer.sign(signed).toString('hex')));
    return document.save({ useObjectStreams: false });
}

/** Reads the statement, its signature and the pages' digest back from a PDF, or says why it cannot. */
export async function readSigned(bytes: Uint8Array): Promise<{ statement: Statement; signature: Buffer; contentDigest: string } | { problem: string }> {
    let document: PDFDocument;
    try {
        document = await PDFDocument.load(bytes, { updateMetadata: false });
    } catch {
        return { problem: 'the file is not a readable PDF' };
    }
    const info = infoDictionary(document);
    if (!info) {
        return { problem: 'the PDF carries no Counterfoil statement' };
    }
    const statement = info.get(PDFName.of(STATEMENT_KEY));
    const signature = info.get(PDFName.of(SIGNATURE_KEY));
    if (!(statement instanceof PDFHexString) || !(signature instanceof PDFHexString)) {
        return { problem: 'the PDF carries no Counterfoil statement' };
    }
    try {
        return {
            statement: JSON.parse(Buffer.from(statement.asString(), 'hex').toString('utf8')) as Statement,
            signature: Buffer.from(signature.asString(), 'hex'),
            contentDigest: contentDigest(document),
        };
    } catch {
        return { problem: 'the PDF\'s Counterfoil statement is not readable' };
    }
}

/** The document information dictionary, where the statement lives. */
function infoDictionary(document: PDFDocument): PDFDict | undefined {
    const reference = document.context.trailerInfo.Info;
    const info = reference ? document.context.lookup(reference) : undefined;
    return info instanceof PDFDict ? info : undefined;
}
