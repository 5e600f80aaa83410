import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import subsetFont from 'subset-font';
import { PDFDict, PDFDocument, type PDFFont, PDFHexString, PDFName, type PDFPage, rgb } from 'pdf-lib';
import { SIGNATURE_BYTES, type Statement, type StatementSigner } from './statement';

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

/** Renders the PDF as it is, unsigned (reports whose reader checks them against their own copy of the ledger). */
export async function renderPlain(content: PdfContent): Promise<Uint8Array> {
    return (await layout(content)).save({ useObjectStreams: false });
}

/** Where the signature's hex digits sit in a file: after this key, between < and >. */
const SIGNATURE_IN_FILE = new RegExp(`/${SIGNATURE_KEY}\\s*<([0-9A-Fa-f]{${SIGNATURE_BYTES * 2}})>`, 'g');

/**
 * Renders the PDF with its statement, keeping room for the signature, then signs the whole file
 * with that room blanked — as PDF signatures sign their byte range — and writes the signature
 * into it. Changing any byte of the file, the fonts and the cross-reference table included,
 * breaks the signature.
 */
export async function renderSigned(content: PdfContent, statement: Statement, signer: StatementSigner): Promise<Uint8Array> {
    const document = await layout(content);
    let info = infoDictionary(document);
    if (!info) {
        info = document.context.obj({});
        document.context.trailerInfo.Info = document.context.register(info);
    }
    info.set(PDFName.of(STATEMENT_KEY), PDFHexString.of(Buffer.from(JSON.stringify(statement), 'utf8').toString('hex')));
    info.set(PDFName.of(SIGNATURE_KEY), PDFHexString.of('0'.repeat(SIGNATURE_BYTES * 2)));
    const file = Buffer.from(await document.save({ useObjectStreams: false }));
    const place = signaturePlace(file);
    if (!place) {
        throw new Error('the rendered PDF holds no single place for its signature');
    }
    file.write(signer.sign(file).toString('hex'), place.start, 'latin1');
    return file;
}

/** The one place a file's signature digits sit, or undefined when there is none or more than one. */
function signaturePlace(file: Buffer): { start: number; digits: string } | undefined {
    const found = [...file.toString('latin1').matchAll(SIGNATURE_IN_FILE)];
    const only = found.length === 1 ? found[0] : undefined;
    const digits = only?.[1];
    return only?.index === undefined || digits === undefined ? undefined : { start: only.index + only[0].length - 1 - digits.length, digits };
}

/**
 * Checks that the hub signed this very file, then reads its statement back, or says why it
 * cannot: a file changed anywhere after signing is refused before its contents are believed.
 */
export async function readSigned(bytes: Uint8Array, signer: StatementSigner): Promise<{ statement: Statement } | { problem: string }> {
    const file = Buffer.from(bytes);
    const place = signaturePlace(file);
    if (!place) {
        return { problem: file.includes(`/${SIGNATURE_KEY}`)
            ? 'the PDF\'s signature does not cover the whole file (an earlier format, or a changed file): download the proof again'
            : 'the PDF carries no Counterfoil signature' };
    }
    const blanked = Buffer.from(file);
    blanked.write('0'.repeat(place.digits.length), place.start, 'latin1');
    if (!signer.verify(blanked, Buffer.from(place.digits, 'hex'))) {
        return { problem: 'the file was not signed by this hub, or was changed after signing' };
    }
    let document: PDFDocument;
    try {
        document = await PDFDocument.load(file, { updateMetadata: false });
    } catch {
        return { problem: 'the file is not a readable PDF' };
    }
    const statement = infoDictionary(document)?.get(PDFName.of(STATEMENT_KEY));
    if (!(statement instanceof PDFHexString)) {
        return { problem: 'the PDF carries no Counterfoil statement' };
    }
    try {
        return { statement: JSON.parse(Buffer.from(statement.asString(), 'hex').toString('utf8')) as Statement };
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
