import { expect } from 'chai';
import { verify, X509Certificate } from 'node:crypto';
import { examineSignedCertificate, RefusedDocument } from '../../gateway/certificates/signed-xml';
import { certificateXml, makeSigner, signXml, type TestSigner } from '../support/foreign-certificates';

const CONSIGNEE = '91310000MA1FL3XQ4T';
const particulars = { number: 'AU-PC-2026-0001', authorityId: 'AU-DAFF', issuedAt: '2026-11-30T08:00:00Z', consignee: CONSIGNEE };

function refused(xml: string, field: string, rule: RegExp): void {
    let thrown: unknown;
    try {
        examineSignedCertificate(Buffer.from(xml, 'utf8'));
    } catch (error) {
        thrown = error;
    }
    expect(thrown, 'the document was not refused').to.be.instanceOf(RefusedDocument);
    expect((thrown as RefusedDocument).field).to.equal(field);
    expect((thrown as RefusedDocument).rule).to.match(rule);
}

describe('examining a foreign authority\'s signed certificate', function () {
    this.timeout(30_000);
    let signer: TestSigner;
    let impostor: TestSigner;
    let signed: string;

    before(async () => {
        signer = await makeSigner('CN=Plant Export Certification, O=Department of Agriculture, C=AU');
        impostor = await makeSigner('CN=Plant Export Certification, O=Department of Agriculture, C=AU');
        signed = signXml(certificateXml(particulars), signer);
    });

    it('verifies a well-signed certificate, reads its particulars from what the signature covers, and hands over a SignedInfo the signer\'s key verifies', () => {
        const examined = examineSignedCertificate(Buffer.from(signed));
        expect(examined).to.deep.include({ authorityId: 'AU-DAFF', kind: 'PHYTOSANITARY', number: 'AU-PC-2026-0001', holder: CONSIGNEE, signedAt: '2026-11-30T08:00:00Z', signerCertificate: signer.der });
        expect(examined.signature.verifies).to.equal(true);
        const key = new X509Certificate(Buffer.from(signer.der, 'base64')).publicKey;
        expect(verify('sha256', Buffer.from(examined.signature.signedInfo as string, 'base64'), key, Buffer.from(examined.signature.value as string, 'base64'))).to.equal(true);
    });

    it('also verifies a reference to the certificate\'s own Id', () => {
        const examined = examineSignedCertificate(Buffer.from(signXml(certificateXml(particulars, 'pc-7'), signer, { uri: '#pc-7' })));
        expect(examined.signature.verifies).to.equal(true);
    });

    it('finds a certificate changed after signing, with the particulars it now states', () => {
        const examined = examineSignedCertificate(Buffer.from(signed.replace(CONSIGNEE, '91440300MA5FXT4K8R')));
        expect(examined.signature.verifies).to.equal(false);
        expect(examined.signature.problem).to.match(/changed after it was signed/);
        expect(examined.holder).to.equal('91440300MA5FXT4K8R');
    });

    it('finds a signature made with another key than the certificate in KeyInfo', () => {
        const forged = signXml(certificateXml(particulars), impostor).replace(/<ds:X509Certificate>[^<]*</, `<ds:X509Certificate>${signer.der}<`);
        const examined = examineSignedCertificate(Buffer.from(forged));
        expect(examined.signature.verifies).to.equal(false);
        expect(examined.signature.problem).to.match(/signature value is not the signer certificate's/);
        expect(examined.signerCertificate).to.equal(signer.der);
    });

    it('refuses signature wrapping: forged particulars around the signed original, with the signature moved up', () => {
        const original = signXml(certificateXml(particulars, 'orig'), signer, { uri: '#orig' });
        const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(original)?.[0] as string;
        const inner = original.replace(/^<\?xml[^>]*>\n?/, '').replace(signature, '');
        const forgedRoot = certificateXml({ ...particulars, consignee: '91440300MA5FXT4K8R' }, 'forged').replace(/^<\?xml[^>]*>\n?/, '');
        // The original, signed element hidden inside the forged one, the signature a child of the forged root and pointing at the original.
        const wrapped = forgedRoot.replace('</Certificate>', `<Annex>${inner}</Annex>${signature}</Certificate>`);
        refused(wrapped, 'SignedInfo.Reference.URI', /the Certificate's own Id/);
        // The same with the forged root taking the original's Id, so the reference seems to point at it.
        refused(wrapped.replace('Id="forged"', 'Id="orig"'), 'SignedInfo.Reference.URI', /carried by the Certificate alone; 2 elements/);
        // The signature left inside the hidden original.
        refused(forgedRoot.replace('</Certificate>', `<Annex>${original.replace(/^<\?xml[^>]*>\n?/, '')}</Annex></Certificate>`), 'Signature', /child of Certificate/);
    });

    it('refuses a reference to another document', () => {
        refused(signed.replace('URI=""', 'URI="https://certificates.example.org/AU-PC-2026-0001.xml"'), 'SignedInfo.Reference.URI', /must be "" or "#"/);
    });

    it('refuses external and internal entities before parsing anything', () => {
        const entity = signed.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE Certificate [<!ENTITY who SYSTEM "file:///etc/passwd">]>')
            .replace('<Exporter>Southern Grain Exports Pty Ltd</Exporter>', '<Exporter>&who;</Exporter>');
        refused(entity, 'body', /DOCTYPE or entities/);
    });

    it('refuses unexpected transforms, algorithms and extra parts of a signature', () => {
        const xpath = '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::Consignee)</ds:XPath></ds:Transform>';
        refused(signed.replace('</ds:Transforms>', `${xpath}</ds:Transforms>`), 'SignedInfo.Reference.Transforms', /enveloped-signature transform/);
        refused(signed.replace(/<ds:Transform Algorithm="http:\/\/www.w3.org\/2000\/09\/xmldsig#enveloped-signature"\/>/, ''), 'SignedInfo.Reference.Transforms', /enveloped-signature transform/);
        refused(signed.replace('xmldsig-more#rsa-sha256', 'xmldsig#rsa-sha1').replace('2001/04/xmldsig-more#rsa-sha1', '2000/09/xmldsig#rsa-sha1'), 'SignedInfo.SignatureMethod', /must be one of/);
        refused(signed.replace('xmlenc#sha256', 'xmldsig#sha1'), 'SignedInfo.Reference.DigestMethod', /must be one of/);
        refused(signed.replace('xml-exc-c14n#"/></ds:Transforms>', 'xml-exc-c14n#WithComments"/></ds:Transforms>'), 'SignedInfo.Reference.Transforms', /canonicalisation/);
        refused(signed.replace('</ds:Signature>', '<ds:Object><Certificate xmlns="urn:counterfoil:foreign-certificate:1"/></ds:Object></ds:Signature>'), 'Signature.Object', /signed in place/);
        const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)?.[0] as string;
        refused(signed.replace('</Certificate>', `${signature}</Certificate>`), 'Signature', /exactly one ds:Signature; it carries 2/);
    });

    it('refuses what is not a signed certificate at all', () => {
        refused('<Certificate', 'body', /well-formed/);
        refused(certificateXml(particulars), 'Signature', /exactly one ds:Signature; it carries 0/);
        refused(signed.replace(/xmlns="urn:counterfoil:foreign-certificate:1"/, 'xmlns="urn:example:other"'), 'body', /root element must be Certificate/);
        refused(signed.replace(/<ds:KeyInfo>[\s\S]*<\/ds:KeyInfo>/, ''), 'Signature.KeyInfo', /exactly once/);
        refused(signed.replace('<Number>AU-PC-2026-0001</Number>', ''), 'Certificate.Number', /exactly once/);
    });
});
