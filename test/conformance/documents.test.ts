import { expect } from 'chai';
import type { DocumentRecord, Page } from '@counterfoil/chaincode';
import { expectRefusal, sha256 } from './client';
import { contentOf, DAY, declarationRequest, isoIn, makeUscc, permitRequest, STEEL } from './fixtures';
import { onEveryBackend } from './world';

onEveryBackend('documents', (world) => {

    async function issueLicence(overrides: Partial<Parameters<typeof permitRequest>[0]> = {}): Promise<DocumentRecord> {
        const request = permitRequest({ holder: world.exporterUscc, ...overrides });
        return world.commerce.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
    }

    it('lets commerce issue a licence whose counterfoil keeps only the hash of its content', async () => {
        const request = permitRequest({ holder: world.exporterUscc });
        const transient = contentOf(request);
        const issued = await world.commerce.submit<DocumentRecord>('documents', 'Issue', request, transient);
        expect(issued.status).to.equal('ACTIVE');
        expect(issued.version).to.equal(1);
        expect(issued.issuer).to.equal('CommerceMSP');
        expect(issued.contentHash).to.equal(sha256(transient.content as Uint8Array));
        const read = await world.customs.evaluate<DocumentRecord>('documents', 'Get', { type: 'LICENCE', number: request.number });
        expect(read).to.deep.equal(issued);
        expect(JSON.stringify(read)).not.to.contain('confidential');
    });

    it('lets members of the content collection read the content and refuses everyone else', async () => {
        const request = permitRequest({ holder: world.exporterUscc });
        const transient = contentOf(request);
        await world.commerce.submit('documents', 'Issue', request, transient);
        const content = await world.customs.evaluate<{ content: string; contentHash: string }>('documents', 'GetContent', { type: 'LICENCE', number: request.number });
        expect(Buffer.from(content.content, 'base64').toString('utf8')).to.equal(Buffer.from(transient.content as Uint8Array).toString('utf8'));
        await expectRefusal(world.tax.evaluate('documents', 'GetContent', { type: 'LICENCE', number: request.number }), 'FORBIDDEN', 'caller');
        await expectRefusal(world.exporter.evaluate('documents', 'GetContent', { type: 'LICENCE', number: request.number }), 'FORBIDDEN', 'caller');
        await expectRefusal(world.auditor.evaluate('documents', 'GetContent', { type: 'LICENCE', number: request.number }), 'FORBIDDEN', 'caller');
    });

    it('lets only inspection issue certificates of origin', async () => {
        const request = permitRequest({ holder: world.exporterUscc, type: 'ORIGIN_CERT', useLimit: 1 });
        await world.unchanged(() => expectRefusal(world.commerce.submit('documents', 'Issue', request, contentOf(request)), 'FORBIDDEN', 'caller'));
        const issued = await world.inspection.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
        expect(issued.issuer).to.equal('InspectionMSP');
        expect(issued.collection).to.equal('certificateContent');
    });

    it('refuses a licence issued by inspection, customs or an enterprise, changing nothing', async () => {
        const request = permitRequest({ holder: world.exporterUscc });
        for (const actor of [world.inspection, world.customs, world.exporter]) {
            await world.unchanged(() => expectRefusal(actor.submit('documents', 'Issue', request, contentOf(request)), 'FORBIDDEN', 'caller'));
        }
    });

    it('lets customs record an export declaration, which carries no permit terms', async () => {
        const number = '220120261234567890';
        const request = { type: 'EXPORT_DECLARATION', number, holder: world.exporterUscc, validFrom: isoIn(-DAY), validTo: isoIn(365 * DAY), summary: { port: '2201' } };
        const issued = await world.customs.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
        expect(issued.permit).to.equal(undefined);
        expect(issued.collection).to.equal('declarationContent');
        const withTerms = { ...permitRequest({ holder: world.exporterUscc }), type: 'EXPORT_DECLARATION', number: '220120261234567891' };
        await world.unchanged(() => expectRefusal(world.customs.submit('documents', 'Issue', withTerms, contentOf(withTerms)), 'INVALID_ARGUMENT', 'permit'));
    });

    it('returns the existing licence when the same issue is repeated, and refuses a different one under the same number', async () => {
        const request = permitRequest({ holder: world.exporterUscc });
        const transient = contentOf(request);
        const first = await world.commerce.submit<DocumentRecord>('documents', 'Issue', request, transient);
        const again = await world.commerce.submit<DocumentRecord>('documents', 'Issue', request, transient);
        expect(again).to.deep.equal(first);
        const changed = { ...request, holder: world.otherUscc };
        await world.unchanged(() => expectRefusal(world.commerce.submit('documents', 'Issue', changed, contentOf(changed)), 'CONFLICT', 'number'));
    });

    const malformed: [string, (request: Record<string, unknown>) => unknown, string][] = [
        ['a holder whose USCC check character is wrong', (r) => ({ ...r, holder: `${(r.holder as string).slice(0, 17)}${(r.holder as string).endsWith('0') ? '1' : '0'}` }), 'holder'],
        ['an HS code of nine digits', (r) => ({ ...r, permit: { ...(r.permit as object), goods: [{ hsCode: '720851000', quantity: 1, unit: 'TNE' }] } }), 'permit.goods[0].hsCode'],
        ['a fractional quantity', (r) => ({ ...r, permit: { ...(r.permit as object), goods: [{ hsCode: STEEL, quantity: 10.5, unit: 'TNE' }] } }), 'permit.goods[0].quantity'],
        ['a quantity given as a string', (r) => ({ ...r, permit: { ...(r.permit as object), goods: [{ hsCode: STEEL, quantity: '10', unit: 'TNE' }] } }), 'permit.goods[0].quantity'],
        ['a use limit of 13', (r) => ({ ...r, permit: { ...(r.permit as object), useLimit: 13 } }), 'permit.useLimit'],
        ['a validity that ends before it starts', (r) => ({ ...r, validFrom: isoIn(10 * DAY), validTo: isoIn(5 * DAY) }), 'validTo'],
        ['a date that does not exist', (r) => ({ ...r, validTo: '2027-02-30T00:00:00Z' }), 'validTo'],
        ['an unknown document type', (r) => ({ ...r, type: 'PASSPORT' }), 'type'],
        ['an unknown field', (r) => ({ ...r, colour: 'blue' }), 'colour'],
        ['the same HS code on two goods lines', (r) => ({ ...r, permit: { ...(r.permit as object), goods: [{ hsCode: STEEL, quantity: 1, unit: 'TNE' }, { hsCode: STEEL, quantity: 2, unit: 'TNE' }] } }), 'permit.goods[1].hsCode'],
        // Text and instants the chaincode accepted would otherwise be committed, and then stop
        // every reader that stores them (PostgreSQL refuses each of these).
        ['half of a surrogate pair in a summary value', (r) => ({ ...r, summary: { holderName: '\ud800' } }), 'summary.holderName'],
        ['the NUL character in a summary value', (r) => ({ ...r, summary: { holderName: 'Fujian\u0000Ocean' } }), 'summary.holderName'],
        ['a validity from year 0', (r) => ({ ...r, validFrom: '0000-01-01T00:00:00Z' }), 'validFrom'],
        ['a validity ending after year 9999 in UTC', (r) => ({ ...r, validTo: '9999-12-31T23:59:59-23:59' }), 'validTo'],
        ['a time zone offset beyond a day', (r) => ({ ...r, validTo: '2027-01-01T00:00:00+24:00' }), 'validTo'],
        ['malformed JSON', () => '{"type": "LICENCE",', 'request'],
        ['a JSON array instead of an object', () => '[]', 'request'],
    ];
    for (const [name, mutate, field] of malformed) {
        it(`refuses a licence with ${name}, naming ${field}`, async () => {
            const request = mutate(permitRequest({ holder: world.exporterUscc }));
            const transient = contentOf(typeof request === 'object' ? request as Record<string, unknown> : {});
            await world.unchanged(() => expectRefusal(world.commerce.submit('documents', 'Issue', request, transient), 'INVALID_ARGUMENT', field));
        });
    }

    it('refuses a document without its confidential content', async () => {
        const request = permitRequest({ holder: world.exporterUscc });
        await world.unchanged(() => expectRefusal(world.commerce.submit('documents', 'Issue', request), 'INVALID_ARGUMENT', 'transient.content'));
    });

    it('amends a licence into version 2, keeps version 1 as AMENDED and carries the drawn quantity over', async () => {
        const licence = await issueLicence();
        await world.customs.submit('verifications', 'Verify', declarationRequest({ permitNumber: licence.number, holder: world.exporterUscc }));
        const amendment = { ...permitRequest({ holder: world.exporterUscc, number: licence.number, goods: [{ hsCode: STEEL, quantity: 2000, unit: 'TNE' }] }), expectedVersion: 1 };
        delete (amendment as Record<string, unknown>).holder;
        const amended = await world.commerce.submit<DocumentRecord>('documents', 'Amend', amendment, contentOf(amendment));
        expect(amended.version).to.equal(2);
        expect(amended.permit?.goods[0]).to.include({ quantity: 2000, drawn: 100 });
        expect(amended.permit?.usesCount).to.equal(1);
        const first = await world.customs.evaluate<DocumentRecord>('documents', 'Get', { type: 'LICENCE', number: licence.number, version: 1 });
        expect(first.status).to.equal('AMENDED');
        const versions = await world.customs.evaluate<DocumentRecord[]>('documents', 'Versions', { type: 'LICENCE', number: licence.number });
        expect(versions.map((version) => version.version)).to.deep.equal([1, 2]);
        const again = await world.commerce.submit<DocumentRecord>('documents', 'Amend', amendment, contentOf(amendment));
        expect(again.version, 'a repeated amendment is not applied twice').to.equal(2);
    });

    it('refuses an amendment based on a stale version', async () => {
        const licence = await issueLicence();
        const amendment = { ...permitRequest({ holder: world.exporterUscc, number: licence.number }), expectedVersion: 3 };
        delete (amendment as Record<string, unknown>).holder;
        await world.unchanged(() => expectRefusal(world.commerce.submit('documents', 'Amend', amendment, contentOf(amendment)), 'CONFLICT', 'expectedVersion'));
    });

    it('revokes a licence for its issuer only', async () => {
        const licence = await issueLicence();
        await world.unchanged(() => expectRefusal(world.exporter.submit('documents', 'Revoke', { type: 'LICENCE', number: licence.number, reason: 'fraud' }), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.customs.submit('documents', 'Revoke', { type: 'LICENCE', number: licence.number, reason: 'fraud' }), 'FORBIDDEN', 'caller'));
        const revoked = await world.commerce.submit<DocumentRecord>('documents', 'Revoke', { type: 'LICENCE', number: licence.number, reason: '申请材料不实' });
        expect(revoked.status).to.equal('REVOKED');
        expect(revoked.revocation?.reason).to.equal('申请材料不实');
    });

    it('shows a document as EXPIRED once its validity has passed', async () => {
        const licence = await issueLicence({ validTo: isoIn(1500) });
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const read = await world.customs.evaluate<DocumentRecord>('documents', 'Get', { type: 'LICENCE', number: licence.number });
        expect(read.status).to.equal('EXPIRED');
    });

    it('answers NOT_FOUND for a document that was never issued', async () => {
        await expectRefusal(world.customs.evaluate('documents', 'Get', { type: 'LICENCE', number: 'NO-SUCH-LICENCE' }), 'NOT_FOUND', 'document');
    });

    it('lets an enterprise read and list only the documents it holds', async () => {
        const mine = await issueLicence();
        const theirs = await issueLicence({ holder: world.otherUscc });
        const read = await world.exporter.evaluate<DocumentRecord>('documents', 'Get', { type: 'LICENCE', number: mine.number });
        expect(read.holder).to.equal(world.exporterUscc);
        await expectRefusal(world.exporter.evaluate('documents', 'Get', { type: 'LICENCE', number: theirs.number }), 'FORBIDDEN', 'caller');
        const page = await world.exporter.evaluate<Page<DocumentRecord>>('documents', 'List', { holder: world.exporterUscc, pageSize: 200 });
        expect(page.records.length).to.be.greaterThan(0);
        expect(page.records.every((record) => record.holder === world.exporterUscc)).to.equal(true);
        await expectRefusal(world.exporter.evaluate('documents', 'List', { holder: world.otherUscc }), 'FORBIDDEN', 'holder');
    });

    it('pages through an issuer listing with bookmarks, each document once', async () => {
        const holder = makeUscc(777000 + Math.floor(Math.random() * 1000));
        const numbers: string[] = [];
        for (let index = 0; index < 5; index++) {
            numbers.push((await issueLicence({ holder })).number);
        }
        const seen: string[] = [];
        let bookmark = '';
        do {
            const page: Page<DocumentRecord> = await world.commerce.evaluate('documents', 'List', { holder, pageSize: 2, bookmark });
            expect(page.records.length).to.be.at.most(2);
            seen.push(...page.records.map((record) => record.number));
            bookmark = page.bookmark;
        } while (bookmark);
        expect([...seen].sort()).to.deep.equal([...numbers].sort());
    });
});
