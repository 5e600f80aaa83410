import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { AuthorityRecord, CaseRecord, ForeignCertificateRecord } from '@counterfoil/chaincode';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpLedgerClient, parseAdapterConfig } from '../../adapters';
import { LedgerError } from '../../network/ledger';
import { certificateXml, makeSigner, signXml, type TestSigner } from '../support/foreign-certificates';
import { Inbox } from '../support/smtp';
import { until } from '../support/until';
import { type Answer, exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, OTHER_USCC, type Persona } from './personas';

describe('foreign e-certificates through the API and the file-drop and HTTP-feed adapters', function () {
    this.timeout(120_000);
    const inbox = new Inbox();
    const contact = 'exportcerts@agriculture.example.au';
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    let root: string;
    let signer: TestSigner;
    let stranger: TestSigner;
    let sequence = 0;
    /** An agency system's HTTP feed: its outbox lists what is put here. */
    const feed: unknown[] = [];
    const system: Server = createServer((request, response) => {
        const items = request.url?.startsWith('/feed/outbox') && new URL(request.url, 'http://x').searchParams.get('after') === '' ? feed : [];
        response.setHeader('Content-Type', 'application/json');
        response.end(JSON.stringify({ items, next: items.length > 0 ? 'end' : new URL(request.url ?? '/', 'http://x').searchParams.get('after') ?? '' }));
    });

    async function as<T = unknown>(persona: Persona, method: string, path: string, body?: unknown): Promise<Answer<T>> {
        return harness.request<T>(method, path, { token: tokens.get(persona), body });
    }

    function signed(by: TestSigner, consignee = EXPORTER_USCC): { number: string; xml: string } {
        const number = `AU-PC-${Date.now()}-${++sequence}`;
        return { number, xml: signXml(certificateXml({ number, authorityId: 'AU-DAFF', issuedAt: new Date(Date.now() - 3_600_000).toISOString(), consignee }), by) };
    }

    function receive(persona: Persona, xml: string): Promise<Answer<ForeignCertificateRecord>> {
        return harness.request<ForeignCertificateRecord>('POST', '/v1/foreign-certificates', { token: tokens.get(persona), rawBody: xml, headers: { 'Content-Type': 'application/xml' } });
    }

    before(async () => {
        [signer, stranger] = await Promise.all([makeSigner('CN=Plant Export Certification, O=DAFF, C=AU'), makeSigner('CN=Someone Else, C=AU')]);
        root = await mkdtemp(join(tmpdir(), 'counterfoil-foreign-'));
        const smtpUrl = await inbox.start();
        await new Promise<void>((resolve) => system.listen(0, '127.0.0.1', resolve));
        const never = '0 0 1 1 *';
        harness = await GatewayHarness.start({
            email: { smtpUrl, idleMs: 25, digestMs: 0 },
            adapters: parseAdapterConfig({ adapters: [
                { name: 'customs-certificates', organisation: 'CustomsMSP', transport: 'file-drop', folder: root, schedule: never, mode: 'relay', sends: [], receives: [] },
                { name: 'inspection-feed', organisation: 'InspectionMSP', transport: 'http-feed', system: `http://127.0.0.1:${(system.address() as AddressInfo).port}`, schedule: never, mode: 'relay', sends: [], receives: [] },
            ] }),
        });
        tokens = await harness.personaTokens();
    });

    after(async () => {
        await harness?.stop();
        await inbox.stop();
        await new Promise((resolve) => system.close(resolve));
        await rm(root, { recursive: true, force: true });
    });

    it('lets customs\' administrators put an authority and its signing certificate (PEM) on file, and everyone read the registry', async () => {
        const authority = { authorityId: 'AU-DAFF', country: 'AU', name: 'Department of Agriculture, Fisheries and Forestry', contact };
        expect((await as('customs', 'POST', '/v1/authorities', authority)).status, 'an operator').to.equal(403);
        const registered = await as<AuthorityRecord>('customsAdmin', 'POST', '/v1/authorities', authority);
        expect(registered.status, registered.text).to.equal(201);
        const added = await as<AuthorityRecord>('customsAdmin', 'POST', '/v1/authorities/AU-DAFF/signers', { certificate: signer.pem });
        expect(added.status, added.text).to.equal(201);
        expect(added.body.signers).to.have.length(1);
        const listed = await as<AuthorityRecord[]>('exporter', 'GET', '/v1/authorities');
        expect(listed.body.map((entry) => entry.authorityId)).to.deep.equal(['AU-DAFF']);
        const history = await as<AuthorityRecord[]>('tax', 'GET', '/v1/authorities/AU-DAFF/history');
        expect(history.body.map((entry) => entry.change)).to.deep.equal(['REGISTERED', 'SIGNER_ADDED']);
    });

    it('records a certificate whose signature and signer check out as VERIFIED, for customs, the consignee and no other enterprise', async () => {
        const { number, xml } = signed(signer);
        const received = await receive('customs', xml);
        expect(received.status, received.text).to.equal(201);
        expect(received.body).to.include({ verdict: 'VERIFIED', number, holder: EXPORTER_USCC });
        const page = await as<{ items: ForeignCertificateRecord[] }>('exporter', 'GET', '/v1/foreign-certificates');
        expect(page.body.items.map((item) => item.number)).to.include(number);
        expect((await as<{ items: unknown[] }>('other', 'GET', '/v1/foreign-certificates')).body.items).to.deep.equal([]);
        expect((await as('other', 'GET', `/v1/foreign-certificates/AU-DAFF/${number}`)).status).to.equal(403);
        expect((await receive('exporter', xml)).status, 'an enterprise does not receive certificates').to.equal(403);
    });

    it('opens a SIGNATURE_MISMATCH case for a signer not on file, and tells the authority by e-mail what was expected and what was found', async () => {
        // The consignee asked to hear of cases; tax, not a party, asked too.
        expect((await as('other', 'PUT', '/v1/notifications/email', { address: 'imports@consignee.example.cn', language: 'en', topics: ['CASE_OPENED'] })).status).to.equal(200);
        expect((await as('tax', 'PUT', '/v1/notifications/email', { address: 'refunds@tax.example.gov.cn', language: 'en', topics: ['CASE_OPENED'] })).status).to.equal(200);
        const { number, xml } = signed(stranger, OTHER_USCC);
        const received = await receive('customs', xml);
        expect(received.status, received.text).to.equal(201);
        expect(received.body.verdict).to.equal('MISMATCH');
        const opened = await as<CaseRecord>('other', 'GET', `/v1/cases/${encodeURIComponent(received.body.caseId as string)}`);
        expect(opened.status, opened.text).to.equal(200);
        expect(opened.body.parties).to.deep.equal(['AU-DAFF', 'CustomsMSP', OTHER_USCC].sort());
        expect(opened.body.findings?.[0]?.code).to.equal('SIGNER_NOT_ON_FILE');
        await until(() => inbox.to(contact).length === 1 && inbox.to('imports@consignee.example.cn').length === 1, 'the mails to the authority and the consignee');
        expect(inbox.to('imports@consignee.example.cn')[0]?.subject).to.contain(received.body.caseId as string);
        // Every reader's notification of an event is written at once, so the consignee's mail means tax's would exist by now.
        const { rows: [told] } = await harness.database.pool.query<{ count: string }>(
            "SELECT count(*) FROM email_notifications n JOIN email_subscriptions s ON s.owner = n.owner WHERE s.address = 'refunds@tax.example.gov.cn'");
        expect(Number(told?.count), 'tax is not a party to the case').to.equal(0);
        const mail = inbox.to(contact)[0];
        expect(mail?.subject).to.contain(number);
        expect(mail?.text).to.contain('SIGNER_NOT_ON_FILE').and.contain(received.body.caseId as string).and.contain('expected:').and.contain('found:');
        expect((await as('customs', 'POST', `/v1/cases/${encodeURIComponent(received.body.caseId as string)}/resolution`, { resolutionCode: 'REISSUE_REQUESTED' })).status).to.equal(200);
        await until(() => inbox.to(contact).length === 2, 'the mail telling the authority the case is closed');
        expect(inbox.to(contact)[1]?.text).to.contain('REISSUE_REQUESTED');
    });

    it('refuses signature wrapping, external entities and foreign references with the rule broken, recording nothing', async () => {
        const { xml } = signed(signer);
        const height = (await harness.ledger.info()).height;
        const entity = await receive('customs', xml.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'));
        expect(entity.status).to.equal(400);
        expect(entity.body).to.deep.include({ code: 'INVALID_ARGUMENT', field: 'body' });
        const elsewhere = await receive('customs', xml.replace('URI=""', 'URI="https://evil.example/cert.xml"'));
        expect(elsewhere.body).to.deep.include({ field: 'SignedInfo.Reference.URI' });
        const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)?.[0] as string;
        const wrapped = certificateXml({ number: 'FORGED-1', authorityId: 'AU-DAFF', issuedAt: new Date().toISOString(), consignee: OTHER_USCC })
            .replace('</Certificate>', `<Annex>${xml.replace(/^<\?xml[^>]*>\n?/, '')}</Annex></Certificate>`);
        const refused = await receive('customs', wrapped);
        expect(refused.status).to.equal(400);
        expect(refused.body).to.deep.include({ field: 'Signature' });
        expect(signature).to.contain('SignatureValue');
        const badConsignee = signXml(certificateXml({ number: 'AU-PC-BAD-1', authorityId: 'AU-DAFF', issuedAt: new Date().toISOString(), consignee: '91310000MA1FL3XQ4X' }), signer);
        const named = await receive('customs', badConsignee);
        expect(named.status).to.equal(400);
        expect(named.body, 'the element the bad value came from').to.deep.include({ code: 'INVALID_ARGUMENT', field: 'Certificate.Consignee' });
        expect((await harness.ledger.info()).height, 'nothing was written').to.equal(height);
    });

    it('takes signed certificates dropped in the customs adapter\'s folder, and sets aside a wrapped one with its reason', async () => {
        const { number, xml } = signed(signer);
        await mkdir(join(root, 'outbox'), { recursive: true });
        await writeFile(join(root, 'outbox', '001-certificate.xml'), xml);
        await writeFile(join(root, 'outbox', '002-wrapped.xml'), xml.replace('</Certificate>', `${/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)?.[0] as string}</Certificate>`));
        const report = await harness.adapters.adapters.get('customs-certificates')?.run();
        expect(report).to.include({ recorded: 1, quarantined: 1 });
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        const received = await as<ForeignCertificateRecord[]>('customs', 'GET', `/v1/foreign-certificates/AU-DAFF/${number}`);
        expect(received.body[0]?.verdict).to.equal('VERIFIED');
        expect(await readdir(join(root, 'processed'))).to.include.members(['outbox-001-certificate.xml', 'outbox-002-wrapped.xml']);
        const { rows } = await harness.database.pool.query<{ reason: string }>("SELECT reason FROM adapter_quarantine WHERE adapter = 'customs-certificates'");
        expect(rows.map((row) => row.reason).join()).to.contain('exactly one ds:Signature');
        expect(await readFile(join(root, 'processed', 'outbox-001-certificate.xml'), 'utf8')).to.equal(xml);
    });

    it('takes signed certificates from an agency system\'s HTTP feed, and from an adapter that reaches the hub through the gateway', async () => {
        const fromFeed = signed(signer);
        feed.push({ kind: 'foreign-certificate', xml: Buffer.from(fromFeed.xml).toString('base64') });
        expect(await harness.adapters.adapters.get('inspection-feed')?.run()).to.include({ recorded: 1, quarantined: 0 });
        const recorded = await as<ForeignCertificateRecord[]>('inspection', 'GET', `/v1/foreign-certificates/AU-DAFF/${fromFeed.number}`);
        expect(recorded.body[0]).to.include({ verdict: 'VERIFIED', receivedBy: 'InspectionMSP' });
        const client = httpLedgerClient(harness.url, async () => tokens.get('customs') as string);
        const overGateway = signed(signer);
        await client.receiveForeignCertificate(Buffer.from(overGateway.xml));
        expect((await as<ForeignCertificateRecord[]>('customs', 'GET', `/v1/foreign-certificates/AU-DAFF/${overGateway.number}`)).body[0]?.verdict).to.equal('VERIFIED');
        const refusal = await client.receiveForeignCertificate(Buffer.from(overGateway.xml.replace('URI=""', 'URI="#elsewhere"'))).then(() => undefined, (error: unknown) => error);
        expect(refusal).to.be.instanceOf(LedgerError);
        expect(refusal).to.include({ code: 'INVALID_ARGUMENT', field: 'SignedInfo.Reference.URI' });
    });

    it('changes an authority\'s contact at the version read, retires a signer with its reason, and has exercised every route of its own', async () => {
        const changed = await as<AuthorityRecord>('customsAdmin', 'POST', '/v1/authorities/AU-DAFF/changes', { expectedVersion: 2, contact: 'ephyto@agriculture.example.au' });
        expect(changed.status, changed.text).to.equal(200);
        expect((await as('customsAdmin', 'POST', '/v1/authorities/AU-DAFF/changes', { expectedVersion: 2, contact: 'x@agriculture.example.au' })).status, 'a stale version').to.equal(409);
        const fingerprint = changed.body.signers[0]?.fingerprint as string;
        const retired = await as<AuthorityRecord>('customsAdmin', 'POST', `/v1/authorities/AU-DAFF/signers/${fingerprint}/retirement`, { reason: 'KEY_COMPROMISED' });
        expect(retired.status, retired.text).to.equal(200);
        expect(retired.body.signers[0]).to.include({ retiredReason: 'KEY_COMPROMISED' });
        // Signed an hour ago, before the retirement: still on file and valid then.
        const { xml } = signed(signer);
        expect((await receive('inspection', xml)).body.verdict).to.equal('VERIFIED');
        const read = await as<AuthorityRecord>('exporter', 'GET', '/v1/authorities/AU-DAFF');
        expect(read.body).to.include({ version: 4, contact: 'ephyto@agriculture.example.au' });
        expect((await as('customsAdmin', 'GET', '/v1/authorities/NZ-MPI')).status).to.equal(404);
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
        const own = harness.gateway.api.all.filter((route) => route.tag === 'Foreign certificates').map((route) => `${route.method.toUpperCase()} ${route.path}`);
        expect(own.filter((route) => !seen.has(route))).to.deep.equal([]);
    });
});
