import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fontkit from '@pdf-lib/fontkit';
import { decodePDFRawStream, PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, type PDFRawStream, PDFRef } from 'pdf-lib';
import type { CaseRecord, DocumentRecord, Handoff, VerificationRecord } from '@counterfoil/chaincode';
import { DAY, isoIn, permitRequest, STEEL } from '../conformance/fixtures';
import { exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, type Persona, PERSONAS } from './personas';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const EXPORTER_NAME = '上海远洋贸易有限公司';

/** The text a person sees in a PDF, as poppler's pdftotext extracts it. */
function textOf(pdf: Buffer): string {
    const folder = mkdtempSync(join(tmpdir(), 'counterfoil-pdf-'));
    try {
        writeFileSync(join(folder, 'proof.pdf'), pdf);
        return execFileSync('pdftotext', ['-enc', 'UTF-8', join(folder, 'proof.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    } finally {
        rmSync(folder, { recursive: true, force: true });
    }
}

/** Characters of `text` the PDF's embedded font cannot draw: no glyph, or a glyph with no outline. */
async function undrawable(pdf: Buffer, text: string): Promise<string[]> {
    const document = await PDFDocument.load(pdf);
    const fonts: ReturnType<typeof fontkit.create>[] = [];
    for (const [, object] of document.context.enumerateIndirectObjects()) {
        if (object instanceof PDFDict && object.get(PDFName.of('FontFile2'))) {
            const stream = document.context.lookup(object.get(PDFName.of('FontFile2'))) as PDFRawStream;
            fonts.push(fontkit.create(Buffer.from(decodePDFRawStream(stream).decode())));
        }
    }
    expect(fonts, 'the PDF embeds its font').to.have.length.greaterThan(0);
    return [...new Set(text.replace(/\s/g, ''))].filter((character) => !fonts.some((font) => {
        const glyph = font.glyphForCodePoint(character.codePointAt(0) as number);
        return glyph.id !== 0 && glyph.path.toSVG().length > 0;
    }));
}

/** A copy of the PDF with one byte of its first page's content stream changed. */
async function withPageByteFlipped(pdf: Buffer): Promise<Buffer> {
    const document = await PDFDocument.load(pdf);
    const contents = document.getPages()[0]?.node.get(PDFName.of('Contents'));
    const reference = contents instanceof PDFArray ? contents.get(0) : contents;
    expect(reference).to.be.instanceOf(PDFRef);
    const header = pdf.indexOf(`\n${(reference as PDFRef).objectNumber} 0 obj`);
    expect(header).to.be.greaterThan(0);
    const start = pdf.indexOf('stream', pdf.indexOf('>>', header)) + 'stream\n'.length;
    const copy = Buffer.from(pdf);
    copy[start + 20] = (copy[start + 20] as number) ^ 0x01;
    return copy;
}

/** A copy of the PDF whose embedded statement says something else, keeping the old signature. */
async function withClaimChanged(pdf: Buffer, change: (statement: { claims: Record<string, unknown> }) => void): Promise<Buffer> {
    const document = await PDFDocument.load(pdf, { updateMetadata: false });
    const info = document.context.lookup(document.context.trailerInfo.Info) as PDFDict;
    const statement = JSON.parse(Buffer.from((info.get(PDFName.of('CounterfoilStatement')) as PDFHexString).asString(), 'hex').toString('utf8')) as { claims: Record<string, unknown> };
    change(statement);
    info.set(PDFName.of('CounterfoilStatement'), PDFHexString.of(Buffer.from(JSON.stringify(statement)).toString('hex')));
    return Buffer.from(await document.save({ useObjectStreams: false }));
}

describe('PDF proofs', function () {
    this.timeout(120_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const declaration = '220120261400000001';
    const exportData = '<报关单 编号="220120261400000001"/>';
    let handoff: Handoff;
    let verification: VerificationRecord;
    let dispute: CaseRecord;

    async function as<T>(persona: Persona, method: string, path: string, body?: unknown): Promise<T> {
        const answer = await harness.request<T>(method, path, { token: tokens.get(persona), body });
        expect(answer.status, answer.text).to.be.within(200, 201);
        return answer.body;
    }

    async function pdf(persona: Persona, path: string): Promise<Buffer> {
        const response = await fetch(`${harness.url}${path}`, { headers: { Authorization: `Bearer ${tokens.get(persona) ?? ''}` } });
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.equal('application/pdf');
        const bytes = Buffer.from(await response.arrayBuffer());
        harness.checkAgainstContract('GET', path, 200, 'application/pdf', bytes);
        return bytes;
    }

    async function verify(bytes: Buffer, persona: Persona = 'exporter'): Promise<{ verdict: string; reason: string }> {
        const answer = await harness.request<{ verdict: string; reason: string }>('POST', '/v1/proofs/verify', {
            token: tokens.get(persona), rawBody: bytes as unknown as string, headers: { 'Content-Type': 'application/pdf' },
        });
        expect(answer.status, answer.text).to.equal(200);
        return answer.body;
    }

    before(async () => {
        harness = await GatewayHarness.start();
        tokens = await harness.personaTokens();
        const licence = await as<DocumentRecord>('commerce', 'POST', '/v1/documents', { ...permitRequest({ holder: EXPORTER_USCC }), content: Buffer.from('licence').toString('base64') });
        await as('customs', 'POST', '/v1/documents', {
            type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY),
            summary: { exporter: EXPORTER_NAME }, content: Buffer.from(exportData).toString('base64'),
        });
        verification = await as<VerificationRecord>('customs', 'POST', '/v1/verifications', {
            declarationNumber: declaration, permit: { type: 'LICENCE', number: licence.number }, holder: EXPORTER_USCC, direction: 'EXPORT',
            goods: [{ hsCode: STEEL, quantity: 50, unit: 'TNE' }], declaredAt: isoIn(-1000), port: '2201',
        });
        handoff = await as<Handoff>('customs', 'POST', '/v1/handoffs', {
            messageId: 'PROOF-TAX-1', recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration },
            payloadHash: sha256(exportData), size: Buffer.byteLength(exportData),
        });
        await as('tax', 'POST', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/receipt', { payloadHash: sha256(exportData) });
        handoff = await as<Handoff>('tax', 'POST', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/acknowledgement', { decision: 'ACCEPTED' });
        dispute = await as<CaseRecord>('exporter', 'POST', '/v1/cases', {
            caseId: 'PROOF-CASE-1', subject: { kind: 'HANDOFF', sender: 'CustomsMSP', messageId: 'PROOF-TAX-1' }, reason: 'DATA_ERROR', statementHash: sha256('发票金额有误'),
        });
        await as('tax', 'POST', '/v1/cases/PROOF-CASE-1/messages', { sequence: 1, messageHash: sha256('已更正') });
        dispute = await as<CaseRecord>('tax', 'POST', '/v1/cases/PROOF-CASE-1/resolution', { resolutionCode: 'CORRECTED' });
    });

    after(async () => {
        await harness?.stop();
    });

    it('renders a proof of delivery naming the parties in Chinese, with hashes, transaction ids and blocks', async () => {
        const bytes = await pdf('exporter', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/proof.pdf');
        const text = textOf(bytes);
        expect(await undrawable(bytes, text), 'characters the embedded font cannot draw').to.deep.equal([]);
        for (const expected of [EXPORTER_NAME, '海关', '税务局', '交付证明', sha256(exportData), handoff.transactionId, handoff.receipt?.transactionId, handoff.acknowledgement?.transactionId, 'ACCEPTED']) {
            expect(text).to.contain(expected as string);
        }
    });

    it('renders a verification certificate and a case summary', async () => {
        const certificateBytes = await pdf('customs', `/v1/verifications/${declaration}/${verification.permit.number}/certificate.pdf`);
        const certificate = textOf(certificateBytes);
        expect(await undrawable(certificateBytes, certificate)).to.deep.equal([]);
        for (const expected of ['许可证核验证书', declaration, 'VALID', verification.transactionId, EXPORTER_NAME, STEEL]) {
            expect(certificate).to.contain(expected);
        }
        const summary = textOf(await pdf('tax', '/v1/cases/PROOF-CASE-1/summary.pdf'));
        for (const expected of ['争议案件摘要', 'PROOF-CASE-1', sha256('已更正'), 'CORRECTED', '税务局', dispute.outcome?.transactionId as string]) {
            expect(summary).to.contain(expected);
        }
    });

    it('finds each genuine PDF authentic', async () => {
        for (const path of ['/v1/handoffs/CustomsMSP/PROOF-TAX-1/proof.pdf', `/v1/verifications/${declaration}/${verification.permit.number}/certificate.pdf`, '/v1/cases/PROOF-CASE-1/summary.pdf']) {
            const verdict = await verify(await pdf('auditor', path));
            expect(verdict.verdict, `${path}: ${verdict.reason}`).to.equal('authentic');
        }
    });

    it('finds a PDF forged when one byte of its page is changed', async () => {
        const genuine = await pdf('exporter', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/proof.pdf');
        const verdict = await verify(await withPageByteFlipped(genuine));
        expect(verdict).to.deep.include({ verdict: 'forged' });
        expect(verdict.reason).to.match(/changed after signing/);
    });

    it('finds a PDF forged when any one byte of the file is changed: fonts, resources, metadata, cross-reference table', async () => {
        const genuine = await pdf('exporter', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/proof.pdf');
        const text = genuine.toString('latin1');
        // One byte in each region a reader's software interprets, and 48 spread across the file.
        const regions = ['/FontFile2', '/Widths', '/W [', '/Producer', '/Title', '/CounterfoilStatement', '/CounterfoilSignature', 'xref', 'trailer', 'startxref']
            .map((marker) => text.indexOf(marker)).filter((offset) => offset >= 0).map((offset) => offset + 12);
        expect(regions.length).to.be.at.least(8);
        const spread = Array.from({ length: 48 }, (_unused, index) => Math.floor((index * (genuine.length - 1)) / 47));
        const authentic: number[] = [];
        for (const offset of [...regions, ...spread]) {
            const copy = Buffer.from(genuine);
            copy[offset] = (copy[offset] as number) === 0x30 ? 0x31 : 0x30;
            if ((await verify(copy)).verdict !== 'forged') {
                authentic.push(offset);
            }
        }
        expect(authentic, 'copies changed at these offsets still verified').to.deep.equal([]);
    });

    it('finds a PDF forged when bytes are added after its end', async () => {
        const genuine = await pdf('exporter', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/proof.pdf');
        expect((await verify(Buffer.concat([genuine, Buffer.from('\n% appended\n')]))).verdict).to.equal('forged');
    });

    it('finds a PDF forged when a claim in its statement is changed', async () => {
        const genuine = await pdf('exporter', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/proof.pdf');
        const tampered = await withClaimChanged(genuine, (statement) => {
            (statement.claims.acknowledgement as { decision: string }).decision = 'REJECTED';
        });
        const verdict = await verify(tampered);
        expect(verdict).to.deep.include({ verdict: 'forged' });
        expect(verdict.reason).to.match(/not signed by this hub, or was changed/);
    });

    it('finds forged a PDF signed with this hub\'s key about a record its ledger never had', async () => {
        const genuine = await pdf('exporter', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/proof.pdf');
        const elsewhere = await GatewayHarness.start({ proofKeyFrom: harness });
        try {
            const token = await elsewhere.token(PERSONAS.exporter);
            const answer = await elsewhere.request<{ verdict: string; reason: string }>('POST', '/v1/proofs/verify', { token, rawBody: genuine as unknown as string, headers: { 'Content-Type': 'application/pdf' } });
            expect(answer.body.verdict).to.equal('forged');
            expect(answer.body.reason).to.match(/not on the ledger/);
        } finally {
            await elsewhere.stop();
        }
    });

    it('refuses a proof to anyone who may not read the record', async () => {
        const answer = await harness.request('GET', '/v1/handoffs/CustomsMSP/PROOF-TAX-1/proof.pdf', { token: tokens.get('other') });
        expect(answer.status).to.equal(403);
        const notPdf = await harness.request<{ verdict: string; reason: string }>('POST', '/v1/proofs/verify', { token: tokens.get('exporter'), rawBody: '%PDF-1.7 garbage', headers: { 'Content-Type': 'application/pdf' } });
        expect(notPdf.body).to.deep.include({ verdict: 'forged' });
    });

    it('has exercised every proof route, each answer checked against the OpenAPI document', () => {
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
        const proofs = harness.gateway.api.all.filter((route) => route.tag === 'Proofs').map((route) => `${route.method.toUpperCase()} ${route.path}`);
        expect(proofs.filter((route) => !seen.has(route))).to.deep.equal([]);
    });
});
