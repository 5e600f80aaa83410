import { expect } from 'chai';
import type { AuthorityRecord, CaseRecord, ForeignCertificateRecord, Page } from '@counterfoil/chaincode';
import { makeSigner, signatureOver, type TestSigner } from '../support/foreign-certificates';
import { expectRefusal, sha256 } from './client';
import { DAY, HOUR, isoIn, unique } from './fixtures';
import { onEveryBackend } from './world';

onEveryBackend('foreign authorities and certificates', (world) => {
    const authority = { authorityId: 'AU-DAFF', country: 'AU', name: 'Department of Agriculture, Fisheries and Forestry', contact: 'exportcerts@agriculture.example.au' };
    let current: TestSigner;
    let replaced: TestSigner;
    let stranger: TestSigner;

    before(async () => {
        [current, replaced, stranger] = await Promise.all([
            makeSigner('CN=Plant Export Certification 2026, O=DAFF, C=AU'),
            makeSigner('CN=Plant Export Certification 2025, O=DAFF, C=AU'),
            makeSigner('CN=Plant Export Certification, O=Not DAFF, C=AU'),
        ]);
        await world.customsAdmin.submit('authorities', 'Register', authority);
        await world.customsAdmin.submit('authorities', 'AddSigner', { authorityId: authority.authorityId, certificate: current.der });
        await world.customsAdmin.submit('authorities', 'AddSigner', { authorityId: authority.authorityId, certificate: replaced.der });
        await world.customsAdmin.submit('authorities', 'RetireSigner', { authorityId: authority.authorityId, fingerprint: fingerprintOf(replaced), retiredAt: isoIn(-2 * HOUR), reason: 'KEY_ROLLOVER' });
    });

    function fingerprintOf(signer: TestSigner): string {
        return sha256(Buffer.from(signer.der, 'base64'));
    }

    function receipt(signer: TestSigner, overrides: Record<string, unknown> = {}): { request: Record<string, unknown>; content: Record<string, Uint8Array> } {
        const number = unique('PC');
        const xml = `<Certificate Id="${number}"/>`;
        return {
            request: {
                authorityId: authority.authorityId, kind: 'PHYTOSANITARY', number, holder: world.exporterUscc, signedAt: isoIn(-HOUR),
                signerCertificate: signer.der, signature: signatureOver(signer, `<ds:SignedInfo>${number}</ds:SignedInfo>`), ...overrides,
            },
            content: { content: Buffer.from(xml) },
        };
    }

    it('keeps the registry to customs\' administrators, and every version of an authority', async () => {
        const other = { authorityId: 'TH-DOA', country: 'TH', name: 'Department of Agriculture', contact: 'pq@doa.example.th' };
        await world.unchanged(() => expectRefusal(world.customs.submit('authorities', 'Register', other), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.commerceAdmin.submit('authorities', 'Register', other), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.exporter.submit('authorities', 'Register', other), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.customsAdmin.submit('authorities', 'Register', { ...other, authorityId: 'VN-DOA' }), 'INVALID_ARGUMENT', 'authorityId'));
        await world.unchanged(() => expectRefusal(world.customsAdmin.submit('authorities', 'Register', { ...other, contact: 'not an address' }), 'INVALID_ARGUMENT', 'contact'));
        await world.unchanged(() => expectRefusal(world.customsAdmin.submit('authorities', 'AddSigner', { authorityId: 'AU-DAFF', certificate: 'bm90IGEgY2VydGlmaWNhdGU=' }), 'INVALID_ARGUMENT', 'certificate'));
        const registered = await world.customsAdmin.submit<AuthorityRecord>('authorities', 'Register', other);
        expect(await world.customsAdmin.submit('authorities', 'Register', other)).to.deep.equal(registered);
        const updated = await world.customsAdmin.submit<AuthorityRecord>('authorities', 'Update', { authorityId: 'TH-DOA', expectedVersion: 1, contact: 'ephyto@doa.example.th' });
        expect(updated).to.include({ version: 2, change: 'UPDATED', contact: 'ephyto@doa.example.th' });
        await world.unchanged(() => expectRefusal(world.customsAdmin.submit('authorities', 'Update', { authorityId: 'TH-DOA', expectedVersion: 1, contact: 'x@doa.example.th' }), 'CONFLICT', 'expectedVersion'));
        const history = await world.exporter.evaluate<Page<AuthorityRecord>>('authorities', 'History', { authorityId: 'AU-DAFF' });
        expect(history.records.map((version) => version.change)).to.deep.equal(['REGISTERED', 'SIGNER_ADDED', 'SIGNER_ADDED', 'SIGNER_RETIRED']);
        const daff = await world.tax.evaluate<AuthorityRecord>('authorities', 'Get', { authorityId: 'AU-DAFF' });
        expect(daff.signers.map((signer) => signer.fingerprint)).to.deep.equal([fingerprintOf(current), fingerprintOf(replaced)]);
        expect(daff.signers[1]).to.include({ retiredReason: 'KEY_ROLLOVER' });
    });

    it('records a certificate signed by a signer on file, valid when it signed, as VERIFIED, with its content in the certificate collection', async () => {
        const { request, content } = receipt(current);
        const record = await world.customs.submit<ForeignCertificateRecord>('foreign-certificates', 'Receive', request, content);
        expect(record).to.include({ verdict: 'VERIFIED', holder: world.exporterUscc, documentHash: sha256(content.content as Uint8Array), collection: 'certificateContent' });
        expect(record.signer.fingerprint).to.equal(fingerprintOf(current));
        expect(record.findings).to.deep.equal([]);
        expect(record.caseId).to.equal(undefined);
        // A retry takes the first verdict.
        expect(await world.customs.submit('foreign-certificates', 'Receive', request, content)).to.deep.equal(record);
        expect(await world.exporter.evaluate('foreign-certificates', 'Get', { authorityId: 'AU-DAFF', number: request.number })).to.deep.equal([record]);
        await expectRefusal(world.otherEnterprise.evaluate('foreign-certificates', 'Get', { authorityId: 'AU-DAFF', number: request.number }), 'FORBIDDEN', 'caller');
        const held = await world.exporter.evaluate<Page<ForeignCertificateRecord>>('foreign-certificates', 'List', { holder: world.exporterUscc });
        expect(held.records.map((entry) => entry.number)).to.include(request.number);
        await expectRefusal(world.otherEnterprise.evaluate('foreign-certificates', 'List', { holder: world.exporterUscc }), 'FORBIDDEN', 'holder');
    });

    it('opens a SIGNATURE_MISMATCH case with the holder and the authority, saying what was expected and what was found, for a signer not on file', async () => {
        const { request, content } = receipt(stranger);
        const record = await world.customs.submit<ForeignCertificateRecord>('foreign-certificates', 'Receive', request, content);
        expect(record.verdict).to.equal('MISMATCH');
        expect(record.findings.map((finding) => finding.code)).to.deep.equal(['SIGNER_NOT_ON_FILE']);
        expect(record.findings[0]?.expected).to.contain(fingerprintOf(current));
        expect(record.findings[0]?.found).to.contain(fingerprintOf(stranger));
        const opened = await world.exporter.evaluate<CaseRecord>('cases', 'Get', { caseId: record.caseId });
        expect(opened).to.deep.include({ reason: 'SIGNATURE_MISMATCH', status: 'OPEN', openedBy: 'CustomsMSP', findings: record.findings });
        expect(opened.parties).to.deep.equal(['AU-DAFF', 'CustomsMSP', world.exporterUscc].sort());
        expect(opened.subject).to.deep.equal({ kind: 'FOREIGN_CERTIFICATE', authorityId: 'AU-DAFF', number: request.number, documentHash: record.documentHash });
        await expectRefusal(world.tax.evaluate('cases', 'Get', { caseId: record.caseId }), 'FORBIDDEN', 'caller');
    });

    it('finds a retired signer, a signature outside its window and a signature that does not verify', async () => {
        const retired = await world.customs.submit<ForeignCertificateRecord>('foreign-certificates', 'Receive', ...Object.values(receipt(replaced)) as [Record<string, unknown>, Record<string, Uint8Array>]);
        expect(retired.findings.map((finding) => finding.code)).to.deep.equal(['SIGNER_RETIRED']);
        const early = receipt(current, { signedAt: isoIn(-30 * DAY) });
        const outside = await world.inspection.submit<ForeignCertificateRecord>('foreign-certificates', 'Receive', early.request, early.content);
        expect(outside.findings.map((finding) => finding.code)).to.deep.equal(['SIGNER_NOT_VALID_AT_SIGNING']);
        expect(outside.receivedBy).to.equal('InspectionMSP');
        const altered = receipt(current);
        const signature = { ...(altered.request.signature as object), verifies: false, problem: 'the certificate\'s content does not match the digest its signature covers' };
        const invalid = await world.customs.submit<ForeignCertificateRecord>('foreign-certificates', 'Receive', { ...altered.request, signature }, altered.content);
        expect(invalid.findings.map((finding) => finding.code)).to.deep.equal(['SIGNATURE_INVALID']);
        expect(invalid.findings[0]?.found).to.contain('does not match the digest');
    });

    it('refuses a signature claimed to verify that the signer\'s key did not make, receipts from anyone but customs and inspection, and a party choosing a ledger case id', async () => {
        const { request, content } = receipt(current);
        const forged = { ...request, signature: { ...signatureOver(stranger, 'x'), signedInfo: (request.signature as { signedInfo: string }).signedInfo } };
        await world.unchanged(() => expectRefusal(world.customs.submit('foreign-certificates', 'Receive', forged, content), 'INVALID_ARGUMENT', 'signature.value'));
        await world.unchanged(() => expectRefusal(world.tax.submit('foreign-certificates', 'Receive', request, content), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.exporter.submit('foreign-certificates', 'Receive', request, content), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.auditor.submit('foreign-certificates', 'Receive', request, content), 'FORBIDDEN', 'caller'));
        await world.unchanged(() => expectRefusal(world.customs.submit('foreign-certificates', 'Receive', { ...request, authorityId: 'NZ-MPI' }, content), 'NOT_FOUND', 'authorityId'));
        await world.unchanged(() => expectRefusal(world.customs.submit('foreign-certificates', 'Receive', request), 'INVALID_ARGUMENT', 'transient.content'));
        await world.unchanged(() => expectRefusal(world.customs.submit('foreign-certificates', 'Receive', { ...request, signature: { ...(request.signature as object), problem: 'x' } }, content), 'INVALID_ARGUMENT', 'signature.problem'));
        // No party may take the id of a case the ledger would open itself.
        const handoffCase = { caseId: `sig:AU-DAFF:${sha256('x').slice(0, 32)}`, subject: { kind: 'DOCUMENT', type: 'LICENCE', number: 'LIC-1' }, reason: 'OTHER' };
        await world.unchanged(() => expectRefusal(world.customs.submit('cases', 'Open', handoffCase), 'INVALID_ARGUMENT', 'caseId'));
    });
});
