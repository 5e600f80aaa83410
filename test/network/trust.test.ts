import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { Pool } from 'pg';
import type { DocumentRecord, Handoff } from '@counterfoil/chaincode';
import { reconcilerFor } from '../../adapters/reconciliation';
import { type AdapterConfig, SimulatedAgencySystem } from '../../adapters';
import type { Principal } from '../../gateway/auth/principal';
import type { NetworkLedger } from '../../network/cometbft/ledger';
import { ClassicLevel } from 'classic-level';
import { Block } from 'cosmjs-types/tendermint/types/block';
import { Part } from 'cosmjs-types/tendermint/types/types';
import { stateDivergences } from '../../network/audit';
import { blockStoreSource } from '../../network/audit/block-store';
import { type CometCommit, type ConsensusSource, rpcConsensusSource, verifyConsensus } from '../../network/audit/consensus';
import { type NetworkNode, networkStatus, nodePrivateDataClient, rpcUrl } from '../../network/cometbft/network';
import { loadChaincode } from '../../network/execution/chaincode-runtime';
import type { LedgerStore } from '../../network/storage/store';
import { encodeEnvelope } from '../../network/cometbft/transactions';
import { signProposal } from '../../network/execution/execute';
import { KeySealer, MembershipAuthority } from '../../network/membership';
import { expectRefusal } from '../conformance/client';
import { DAY, isoIn, permitRequest } from '../conformance/fixtures';
import { type Answer, GatewayHarness } from '../gateway/harness';
import { EXPORTER_USCC, PERSONAS } from '../gateway/personas';
import { startTestNetwork, type TestNetwork } from '../support/network';
import { until } from '../support/until';

const NODES = ['customs', 'commerce', 'tax', 'forex', 'inspection'] as const;
type NodeName = (typeof NODES)[number];
const ORGANISATION: Readonly<Record<NodeName, string>> = {
    customs: 'CustomsMSP', commerce: 'CommerceMSP', tax: 'TaxMSP', forex: 'ForexMSP', inspection: 'InspectionMSP',
};

const run = promisify(execFile);
const sha256 = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex');
const base64 = (value: string | Buffer): string => Buffer.from(value).toString('base64');

async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Five agencies, each running its own validator, node, database and gateway: what only each
 * holds (its certificate authority key), what only the members of a collection receive (its
 * confidential content), and what an auditor proves from any one node (every commit, every
 * block executed again). Each gateway has the adapters of its own agency only.
 */
describe('the network\'s trust model: each agency holds its own keys and gateway', function () {
    this.timeout(300_000);
    let network: TestNetwork;
    const gateways = new Map<NodeName, GatewayHarness>();
    const ledgers = new Map<NodeName, NetworkLedger>();
    const pools = new Map<NodeName, Pool>();
    const systems = {
        customs: new SimulatedAgencySystem('CustomsMSP', 15),
        tax: new SimulatedAgencySystem('TaxMSP', 15),
        forex: new SimulatedAgencySystem('ForexMSP', 15),
    };

    /** A request to one agency's gateway, as a principal with a token that gateway issued. */
    async function as<T = unknown>(gateway: NodeName, principal: Principal, method: string, path: string, body?: unknown): Promise<Answer<T>> {
        const harness = gateways.get(gateway) as GatewayHarness;
        return harness.request<T>(method, path, { token: await harness.token(principal), body });
    }

    /** Waits until every gateway's indexer has applied the block (each node has committed it). */
    async function everywhere(blockNumber: bigint | number): Promise<void> {
        for (const harness of gateways.values()) {
            await until(() => harness.gateway.services.indexer.caughtUp(BigInt(blockNumber), 1_000).then(() => true), `every gateway at block ${blockNumber}`, { timeoutMs: 120_000 });
        }
    }

    before(async function () {
        this.timeout(400_000);
        network = await startTestNetwork({ validators: 5 });
        for (const name of NODES) {
            pools.set(name, await network.pool(name));
        }
        const observe = async (name: 'customs' | 'tax' | 'forex', sends: string[], receives: string[]): Promise<AdapterConfig> => ({
            name, organisation: ORGANISATION[name], transport: 'http-feed', system: await systems[name].start(), schedule: '0 0 1 1 *', mode: 'observe',
            sends, receives, maxDeliveryAttempts: 2, maxRetransmissions: 2, concurrency: 4,
        });
        const adapters: Partial<Record<NodeName, AdapterConfig[]>> = {
            customs: [await observe('customs', ['EXPORT_DECLARATION'], [])],
            tax: [await observe('tax', [], ['EXPORT_DECLARATION'])],
            forex: [await observe('forex', [], ['EXPORT_DECLARATION'])],
        };
        for (const name of NODES) {
            // Each gateway over its own node, enrolling its own organisation's principals only.
            const ledger = await network.ledger(name, { ownOrganisation: true, commitTimeoutMs: 120_000 });
            ledgers.set(name, ledger);
            gateways.set(name, await GatewayHarness.start({ ledger, adapters: adapters[name] ?? [], reconciler: reconcilerFor(ledger.enrolment.organisations) }));
        }
    });

    after(async function () {
        this.timeout(120_000);
        for (const harness of gateways.values()) {
            await harness.stop();
        }
        await Promise.all(Object.values(systems).map((system) => system.stop()));
        await network?.stop();
    });

    describe('keys', () => {
        it('keeps each organisation\'s certificate authority key in its own node\'s folder, sealed with that node\'s key, and in no database', async () => {
            const held = (await filesUnder(network.dir)).filter((file) => /\/authorities\/[A-Za-z]+\.json$/.test(file)).map((file) => relative(network.dir, file)).sort();
            expect(held).to.deep.equal([
                'nodes/commerce/authorities/CommerceMSP.json', 'nodes/customs/authorities/CustomsMSP.json', 'nodes/customs/authorities/EnterprisesMSP.json',
                'nodes/forex/authorities/ForexMSP.json', 'nodes/inspection/authorities/InspectionMSP.json', 'nodes/tax/authorities/TaxMSP.json',
            ]);
            const taxKey = JSON.parse(await readFile(join(network.dir, 'nodes', 'tax', 'authorities', 'TaxMSP.json'), 'utf8')) as { privateKey: string };
            expect(KeySealer.isSealed(taxKey.privateKey)).to.equal(true);
            const customsSealer = await KeySealer.open(join(network.dir, 'nodes', 'customs', 'key-encryption-key'));
            expect(() => customsSealer.unseal(taxKey.privateKey, 'authority:TaxMSP'), 'customs\' key does not open Tax\'s').to.throw(/does not open/);
            const taxSealer = await KeySealer.open(join(network.dir, 'nodes', 'tax', 'key-encryption-key'));
            expect(taxSealer.unseal(taxKey.privateKey, 'authority:TaxMSP')).to.match(/BEGIN PRIVATE KEY/);
            for (const name of NODES) {
                const stored = await (pools.get(name) as Pool).query<{ n: string }>('SELECT count(*) AS n FROM msp_authorities');
                expect(Number(stored.rows[0]?.n), `${name}'s database holds no authority key`).to.equal(0);
            }
        });

        it('lets an agency\'s gateway act for its own organisation only: customs\' gateway refuses to act for Tax', async () => {
            const taxAtCustoms = await as('customs', PERSONAS.tax, 'GET', '/v1/handoffs');
            expect(taxAtCustoms.status).to.equal(403);
            expect(taxAtCustoms.body).to.deep.include({ field: 'org' });
            expect((await as('tax', PERSONAS.tax, 'GET', '/v1/handoffs')).status).to.equal(200);
            expect((await as('customs', PERSONAS.exporter, 'GET', `/v1/enterprises/${EXPORTER_USCC}/trace`)).status, 'enterprises enrol at customs (the E-Port)').to.equal(200);
            expect((await as('tax', PERSONAS.exporter, 'GET', `/v1/enterprises/${EXPORTER_USCC}/trace`)).status).to.equal(403);
            const customs = ledgers.get('customs') as NetworkLedger;
            expect(customs.enrolment.organisations).to.have.members(['CustomsMSP', 'EnterprisesMSP']);
            await expectRefusal(customs.enrolment.enrol('TaxMSP', { name: 'refund-desk', attributes: { role: 'operator' } }), 'FORBIDDEN', 'mspId');
        });

        it('refuses in CheckTx a receipt for Tax signed with a certificate customs\' own authority made, and takes Tax\'s own', async () => {
            const declaration = '220120261500000001';
            const issued = await as<DocumentRecord>('customs', PERSONAS.customs, 'POST', '/v1/documents', {
                type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(365 * DAY),
                summary: { port: '2201' }, content: base64('报关单 220120261500000001'),
            });
            expect(issued.status, issued.text).to.equal(201);
            const sent = await as<Handoff>('customs', PERSONAS.customs, 'POST', '/v1/handoffs', {
                messageId: `EXP-${declaration}-TAX`, recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration },
                payloadHash: sha256('export data'), size: 11,
            });
            expect(sent.status, sent.text).to.equal(201);
            // Customs holds its own authority's key: with it, it makes a certificate that says TaxMSP.
            const stored = JSON.parse(await readFile(join(network.dir, 'nodes', 'customs', 'authorities', 'CustomsMSP.json'), 'utf8')) as { certificate: string; privateKey: string };
            const customsKey = (await KeySealer.open(join(network.dir, 'nodes', 'customs', 'key-encryption-key'))).unseal(stored.privateKey, 'authority:CustomsMSP');
            const forger = MembershipAuthority.fromRecord({ mspId: 'TaxMSP', certificate: stored.certificate, privateKey: customsKey });
            const forged = await forger.issue({ name: 'refund-desk', attributes: { role: 'operator' } });
            const customs = ledgers.get('customs') as NetworkLedger;
            const request = { identity: forged, contract: 'handoffs', transaction: 'RecordReceipt', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId: sent.body.messageId, payloadHash: sha256('export data') })] };
            const signed = await signProposal(request, customs.configuration, new Date());
            const bytes = encodeEnvelope({ proposal: signed.proposal, signature: signed.signature.toString('base64') });
            const error = await expectRefusal(customs.broadcastAndConfirm(signed.transactionId, bytes), 'UNAUTHENTICATED', 'identity');
            expect(error.message).to.match(/not issued by the certificate authority of TaxMSP/);
            expect(await customs.transaction(signed.transactionId)).to.equal(undefined);
            const received = await as<Handoff>('tax', PERSONAS.tax, 'POST', `/v1/handoffs/CustomsMSP/${sent.body.messageId}/receipt`, { payloadHash: sha256('export data') });
            expect(received.status, received.text).to.equal(200);
            expect(received.body.status).to.equal('RECEIVED');
        });
    });

    describe('confidential content', () => {
        /** A licence's content with a random mark, to look for wherever it might have gone. */
        function licenceContent(): { content: string; mark: string } {
            const mark = randomBytes(24).toString('hex');
            return { content: JSON.stringify({ licence: '出口许可证正本', goods: '热轧钢板 1000 吨', mark }), mark };
        }

        function licenceRequest(number: string, content: string): Record<string, unknown> {
            return { ...permitRequest({ number, holder: EXPORTER_USCC }), content: base64(content) };
        }

        /** Where a node keeps something that holds the mark: its database's rows, its folder's files (logs, cometbft's store). */
        async function traces(name: NodeName, mark: string): Promise<string[]> {
            const pool = pools.get(name) as Pool;
            const found: string[] = [];
            const tables = await pool.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
            const forms = [mark, Buffer.from(mark).toString('hex'), base64(mark)];
            for (const { table_name: table } of tables.rows) {
                const rows = await pool.query<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`);
                if (rows.rows.some((row) => forms.some((form) => row.row.includes(form)))) {
                    found.push(`table ${table}`);
                }
            }
            for (const file of await filesUnder(join(network.dir, 'nodes', name))) {
                const bytes = await readFile(file);
                if (forms.some((form) => bytes.includes(Buffer.from(form)))) {
                    found.push(relative(network.dir, file));
                }
            }
            return found;
        }

        it('sends a licence\'s content to the nodes of its collection\'s members only: no other node receives it, in its database, logs or block store', async () => {
            const { content, mark } = licenceContent();
            const issued = await as<DocumentRecord>('commerce', PERSONAS.commerce, 'POST', '/v1/documents', licenceRequest('LIC-2026-TRUST-0001', content));
            expect(issued.status, issued.text).to.equal(201);
            expect(issued.body.contentHash).to.equal(sha256(content));
            await everywhere((await (ledgers.get('commerce') as NetworkLedger).info()).height - 1n);
            for (const member of ['customs', 'commerce'] as const) {
                const read = await as<{ content: string; contentHash: string }>(member, PERSONAS[member], 'GET', '/v1/documents/LICENCE/LIC-2026-TRUST-0001/content');
                expect(read.status, `${member}: ${read.text}`).to.equal(200);
                expect(Buffer.from(read.body.content, 'base64').toString('utf8')).to.equal(content);
                expect(await traces(member, mark), `${member} keeps it`).to.include('table private_state');
            }
            for (const outsider of ['tax', 'forex', 'inspection'] as const) {
                const read = await as(outsider, PERSONAS[outsider], 'GET', '/v1/documents/LICENCE/LIC-2026-TRUST-0001/content');
                expect(read.status, `${outsider} may not read it`).to.equal(403);
                expect(await traces(outsider, mark), `${outsider}'s node never received it`).to.deep.equal([]);
                // Its node logs every request on its private data channel: none came for this transaction.
                expect(await readFile(join(network.dir, 'nodes', outsider, 'node.log'), 'utf8'), `${outsider} was never sent it`).to.not.include(issued.body.transactionId);
            }
            for (const member of ['customs', 'commerce'] as const) {
                expect(await readFile(join(network.dir, 'nodes', member, 'node.log'), 'utf8')).to.match(new RegExp(`content of licenceContent for transaction ${issued.body.transactionId} \\(\\d+ bytes\\) from CommerceMSP, held until its block`));
            }
            // A node outside the collection refuses such content outright, whoever sends it.
            const channel = await nodePrivateDataClient(network.dir, 'customs');
            const pushed = await channel.send('ab'.repeat(32), 'licenceContent', Buffer.from('not for tax'), ['TaxMSP']);
            channel.close();
            expect(pushed.took).to.deep.equal([]);
            expect(pushed.failed.map((failure) => failure.problem)).to.match(/^tax answered 403: .*TaxMSP is not a member of collection licenceContent/);
            // Every node holds the content's hash all the same: the public record is the same everywhere.
            const hashes = await Promise.all(NODES.map(async (name) => (await as<DocumentRecord>(name, name === 'customs' ? PERSONAS.auditor : { subject: 'auditor', org: ORGANISATION[name], role: 'auditor' }, 'GET', '/v1/documents/LICENCE/LIC-2026-TRUST-0001')).body.contentHash));
            expect(new Set(hashes)).to.deep.equal(new Set([sha256(content)]));
        });

        it('lets a member that was down fetch the content from another member when it is back, and counts what it still misses', async () => {
            const { content, mark } = licenceContent();
            await network.kill('customs');
            // Four validators of five commit; commerce's node takes the content, customs' is away.
            const issued = await as<DocumentRecord>('commerce', PERSONAS.commerce, 'POST', '/v1/documents', licenceRequest('LIC-2026-TRUST-0002', content));
            expect(issued.status, issued.text).to.equal(201);
            // With commerce's node process down too, customs finds no member to fetch it from.
            await network.kill('commerce', ['node']);
            await network.start('customs');
            const missing = await until(async () => (await networkStatus(network.dir)).find((node) => node.name === 'customs' && node.missingPrivateData === 1),
                'customs to see the licence\'s block and miss its content', { timeoutMs: 120_000 });
            expect(missing.missingPrivateData).to.equal(1);
            const early = await as('customs', PERSONAS.customs, 'GET', '/v1/documents/LICENCE/LIC-2026-TRUST-0002/content');
            expect(early.status).to.equal(503);
            expect((early.body as { detail?: string }).detail).to.match(/has not received the content of licenceContent yet .* fetching it from another member/);
            await network.start('commerce');
            await network.untilCommitting([...NODES]);
            await until(async () => (await networkStatus(network.dir)).find((node) => node.name === 'customs')?.missingPrivateData === 0, 'customs to fetch the content from commerce', { timeoutMs: 120_000 });
            const read = await as<{ content: string }>('customs', PERSONAS.customs, 'GET', '/v1/documents/LICENCE/LIC-2026-TRUST-0002/content');
            expect(read.status, read.text).to.equal(200);
            expect(Buffer.from(read.body.content, 'base64').toString('utf8')).to.equal(content);
            expect(await readFile(join(network.dir, 'nodes', 'customs', 'node.log'), 'utf8')).to.match(/fetched 1 missing item/);
            for (const outsider of ['tax', 'forex', 'inspection'] as const) {
                expect(await traces(outsider, mark), `${outsider}'s node never received it`).to.deep.equal([]);
            }
        });
    });

    describe('the seed\'s story, each agency at its own gateway with its own adapters', () => {
        const declaration = '220120261500000009';
        const exportData = '<报关单 编号="220120261500000009"><货物>热轧钢板 400 吨</货物></报关单>';
        const toTax = `EXP-${declaration}-TAX`;
        const toForex = `EXP-${declaration}-FOREX`;
        const delivery = (messageId: string): { sender: string; messageId: string; subject: string; document: { type: string; number: string }; payload: string } => ({
            sender: 'CustomsMSP', messageId, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payload: base64(exportData),
        });
        const adapter = async (name: 'customs' | 'tax' | 'forex'): Promise<void> => {
            await (gateways.get(name) as GatewayHarness).adapters.adapters.get(name)?.run();
        };
        const auditor = (name: NodeName): Principal => ({ subject: 'auditor', org: ORGANISATION[name], role: 'auditor' });

        it('customs sends the export data to tax and forex; forex\'s copy is lost, reconciliation at customs surfaces it, a retransmission resolves it, and every gateway agrees', async () => {
            const policy = await as('customs', PERSONAS.customsAdmin, 'POST', '/v1/deadline-policies', {
                documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'ForexMSP', receiptSeconds: 1, acknowledgementSeconds: 60,
            });
            expect(policy.status, policy.text).to.equal(200);
            systems.customs.send({
                kind: 'document', type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(365 * DAY),
                summary: { port: '2201' }, content: base64(exportData),
            });
            for (const [messageId, recipient] of [[toTax, 'TaxMSP'], [toForex, 'ForexMSP']] as const) {
                systems.customs.send({
                    kind: 'handoff', messageId, recipient, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration },
                    payloadHash: sha256(exportData), size: Buffer.byteLength(exportData),
                });
            }
            await adapter('customs');
            // Customs' own channel carries the data: tax's system gets it, forex's never does.
            expect(systems.tax.receive(delivery(toTax)).stored).to.equal(true);
            await adapter('tax');
            await adapter('forex');
            await everywhere((await (ledgers.get('tax') as NetworkLedger).info()).height - 1n);
            const customsGateway = gateways.get('customs') as GatewayHarness;
            await until(async () => (await as<{ items: Handoff[] }>('customs', PERSONAS.customs, 'GET', '/v1/handoffs?overdue=true')).body.items.some((handoff) => handoff.messageId === toForex),
                'forex\'s copy to be overdue');
            const opened = await customsGateway.reconciler.run('test');
            expect(opened.opened, 'customs\' reconciliation opens the case on the transfer it sent').to.equal(1);
            for (const name of ['tax', 'forex'] as const) {
                expect((await (gateways.get(name) as GatewayHarness).reconciler.run('test')).opened, `${name} sent nothing unconfirmed`).to.equal(0);
            }
            const caseId = `REC-NOT_DELIVERED-${sha256(`CustomsMSP\u0000${toForex}`).slice(0, 32)}`;
            await everywhere((await (ledgers.get('customs') as NetworkLedger).info()).height - 1n);
            for (const name of ['customs', 'forex'] as const) {
                const seen = await as<{ status: string; parties: string[] }>(name, name === 'customs' ? PERSONAS.customs : PERSONAS.forex, 'GET', `/v1/cases/${caseId}`);
                expect(seen.status, `${name}: ${seen.text}`).to.equal(200);
                expect(seen.body.status).to.equal('OPEN');
                expect(seen.body.parties).to.include.members(['CustomsMSP', 'ForexMSP', EXPORTER_USCC]);
            }
            expect((await as('tax', PERSONAS.tax, 'GET', `/v1/cases/${caseId}`)).status, 'tax is no party to it').to.be.oneOf([403, 404]);

            const retransmitted = await as<Handoff>('customs', PERSONAS.customs, 'POST', `/v1/handoffs/CustomsMSP/${toForex}/retransmissions`, { attempt: 1 });
            expect(retransmitted.status, retransmitted.text).to.equal(200);
            expect(systems.forex.receive(delivery(toForex)).stored).to.equal(true);
            await adapter('forex');
            // Customs' reconciliation reads its own query tables: they must hold forex's decision first.
            await everywhere((await (ledgers.get('forex') as NetworkLedger).info()).height - 1n);
            const closed = await customsGateway.reconciler.run('test');
            expect(closed.closed).to.equal(1);
            await everywhere((await (ledgers.get('customs') as NetworkLedger).info()).height - 1n);

            // Each agency's gateway, over its own node and database, tells the same story.
            for (const name of ['customs', 'forex'] as const) {
                const handoff = await as<Handoff>(name, auditor(name), 'GET', `/v1/handoffs/CustomsMSP/${toForex}`);
                expect(handoff.body, name).to.deep.include({ status: 'ACCEPTED', retransmissions: 1 });
                const settled = (await as<{ status: string; outcome?: { code: string } }>(name, auditor(name), 'GET', `/v1/cases/${caseId}`)).body;
                expect([settled.status, settled.outcome?.code], name).to.deep.equal(['RESOLVED', 'NOW_ACCEPTED']);
            }
            for (const name of ['customs', 'tax'] as const) {
                expect((await as<Handoff>(name, auditor(name), 'GET', `/v1/handoffs/CustomsMSP/${toTax}`)).body.status, name).to.equal('ACCEPTED');
            }
            const overviews = await Promise.all(NODES.map(async (name) => (await as<{ pairs: unknown[]; totals: unknown }>(name, auditor(name), 'GET', '/v1/overview')).body));
            for (const [index, overview] of overviews.entries()) {
                expect(overview, `${NODES[index]}'s overview`).to.deep.equal(overviews[0]);
            }
            const trace = await as<{ agencies: { agency: string; timeline: { step: string }[] }[] }>('customs', PERSONAS.exporter, 'GET', `/v1/trace?declaration=${declaration}`);
            expect(trace.body.agencies.find((entry) => entry.agency === 'ForexMSP')?.timeline.map((step) => step.step)).to.include.members(['SENT', 'RECEIVED', 'ACCEPTED']);
            for (const name of NODES) {
                const page = await fetch(`${(gateways.get(name) as GatewayHarness).url}/console/`);
                expect(page.status, `${name}'s console`).to.equal(200);
            }
        });
    });

    describe('an auditor verifies the consensus from any one node', () => {
        const chaincode = loadChaincode({ logLevel: 'CRITICAL' });
        const source = (name: NodeName): ConsensusSource => rpcConsensusSource(rpcUrl(network.layout.nodes.find((node) => node.name === name) as NetworkNode));

        async function commonHeight(names: readonly NodeName[]): Promise<number> {
            const heights = await Promise.all(names.map(async (name) => source(name).latestHeight()));
            return Math.min(...heights);
        }

        it('checks every commit and executes every block again from genesis, and two agencies\' nodes end with the same final hash', async () => {
            const toHeight = await commonHeight(['tax', 'inspection']);
            const reports = await Promise.all((['tax', 'inspection'] as const).map((name) => verifyConsensus(source(name), { store: (ledgers.get(name) as NetworkLedger).history, chaincode, toHeight })));
            for (const report of reports) {
                expect(report.problems).to.deep.equal([]);
                expect(report.commitsVerified).to.equal(report.heights);
                expect(report.validators.map((validator) => validator.name)).to.have.members([...NODES]);
                expect(report.blocksExecuted).to.be.greaterThan(3);
                expect(report.signaturesVerified).to.be.at.least(report.heights * 4);
            }
            expect(reports[0]?.finalAppHash).to.equal(reports[1]?.finalAppHash);
            expect(reports[0]?.transactionsExecuted).to.equal(reports[1]?.transactionsExecuted);
            // The command line, pointed at tax's node, says the same.
            const tax = gateways.get('tax') as GatewayHarness;
            const cli = await run(process.execPath, [join(__dirname, '..', '..', 'scripts', 'audit.js'), 'replay'], {
                env: { ...process.env, DATABASE_URL: tax.database.url, LEDGER: 'network', COUNTERFOIL_NETWORK_DIR: network.dir, COUNTERFOIL_NETWORK_NODE: 'tax' },
            });
            expect(cli.stdout).to.match(/^CLEAN — /);
            expect(cli.stdout).to.match(/consensus \(counterfoil-[0-9a-f]+: \d+ commits of \d+ heights, \d+ transactions executed again, \d+ app hashes\): ok/);
        });

        it('names a commit with a forged signature, and one signed by too few validators', async () => {
            const real = source('forex');
            const height = Math.min(await real.latestHeight(), 12);
            const forgedAt = height - 2;
            const missingAt = height - 1;
            const tampered: ConsensusSource = {
                ...real,
                latestHeight: async () => height,
                commit: async (at) => {
                    const commit = await real.commit(at);
                    if (at === forgedAt) {
                        const [first, ...rest] = commit.signatures.filter((signature) => signature.block_id_flag === 2);
                        const bytes = Buffer.from(first?.signature ?? '', 'base64');
                        bytes[0] = (bytes[0] as number) ^ 0xff;
                        return { ...commit, signatures: [{ ...(first as CometCommit['signatures'][number]), signature: bytes.toString('base64') }, ...rest] };
                    }
                    if (at === missingAt) {
                        // Only three of five validators' signatures left: not more than two thirds.
                        return { ...commit, signatures: commit.signatures.filter((signature) => signature.block_id_flag === 2).slice(0, 3) };
                    }
                    return commit;
                },
            };
            const report = await verifyConsensus(tampered, { chaincode, toHeight: height });
            const named = report.problems.map((problem) => `${problem.height}: ${problem.problem}`);
            expect(named.find((problem) => problem.startsWith(`${forgedAt}: `)), named.join('\n')).to.match(/signature does not verify/);
            expect(named.find((problem) => problem.startsWith(`${missingAt}: `)), named.join('\n')).to.match(/valid signatures of 30 of 50 voting power, not more than two thirds/);
            expect(report.problems.map((problem) => problem.height)).to.have.members([forgedAt, missingAt]);
        });

        it('verifies a copy of a node\'s CometBFT block store as it verifies the node, and names a transaction altered in the copy', async () => {
            const copyDir = await mkdtemp(join(tmpdir(), 'counterfoil-block-store-'));
            try {
                await network.halt('tax', ['cometbft']);
                await cp(join(network.dir, 'nodes', 'tax', 'cometbft'), copyDir, { recursive: true });
                await network.start('tax');
                let copy = await blockStoreSource(copyDir);
                const height = await copy.latestHeight();
                const fromCopy = await verifyConsensus(copy, { chaincode, toHeight: height });
                const fromNode = await verifyConsensus(source('inspection'), { chaincode, toHeight: height });
                expect(fromCopy.problems).to.deep.equal([]);
                expect(fromCopy.commitsVerified).to.equal(height);
                expect(fromCopy.finalAppHash).to.equal(fromNode.finalAppHash);
                let altered = 0;
                for (let at = height; at > 0 && altered === 0; at--) {
                    if ((await copy.block(at)).txs.length > 0) {
                        altered = at;
                    }
                }
                await copy.close();
                // One byte of the block's first transaction changed where the store keeps it.
                const db = new ClassicLevel<string, Buffer>(join(copyDir, 'data', 'blockstore.db'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
                const part = Part.decode(await db.get(`P:${altered}:0`) as Buffer);
                const block = Block.decode(part.bytes);
                const tx = Buffer.from(block.data.txs[0] as Uint8Array);
                tx[tx.length - 5] = (tx[tx.length - 5] as number) ^ 0x01;
                block.data.txs[0] = tx;
                await db.put(`P:${altered}:0`, Buffer.from(Part.encode({ ...part, bytes: Block.encode(block).finish() }).finish()));
                await db.close();
                copy = await blockStoreSource(copyDir);
                const report = await verifyConsensus(copy, { chaincode, toHeight: height });
                await copy.close();
                expect(report.problems.filter((problem) => problem.height === altered).map((problem) => problem.problem), JSON.stringify(report.problems))
                    .to.include('the block\'s transactions do not hash to the data hash its header carries');
                const cli = await run(process.execPath, [join(__dirname, '..', '..', 'scripts', 'audit.js'), 'replay', '--block-store', copyDir], {
                    env: { ...process.env, DATABASE_URL: (gateways.get('tax') as GatewayHarness).database.url, LEDGER: 'network', COUNTERFOIL_NETWORK_DIR: network.dir, COUNTERFOIL_NETWORK_NODE: 'tax' },
                }).catch((error: { code: number; stdout: string }) => error);
                expect(cli).to.deep.include({ code: 3 });
                expect(cli.stdout).to.match(/^PROBLEMS — /);
                expect(cli.stdout).to.match(/consensus \(.*\): \d+ problem\(s\)/);
            } finally {
                await rm(copyDir, { recursive: true, force: true });
            }
        });

        it('names a block altered in one node\'s store, and a state row changed in one node\'s database', async () => {
            const pool = pools.get('inspection') as Pool;
            const target = await pool.query<{ number: string; data: Buffer }>('SELECT number, data FROM ledger_blocks WHERE number > 2 ORDER BY number LIMIT 1');
            const block = target.rows[0] as { number: string; data: Buffer };
            const row = (await pool.query<{ key: Buffer; value: Buffer }>("SELECT key, value FROM world_state WHERE namespace = 'counterfoil' ORDER BY key LIMIT 1")).rows[0] as { key: Buffer; value: Buffer };
            const altered = Buffer.from(block.data);
            altered[altered.length - 3] = (altered[altered.length - 3] as number) ^ 0x01;
            await pool.query('UPDATE ledger_blocks SET data = $2::bytea WHERE number = $1::bigint', [block.number, altered]);
            await pool.query("UPDATE world_state SET value = $2::bytea WHERE namespace = 'counterfoil' AND key = $1::bytea", [row.key, Buffer.from('{"changed":true}')]);
            try {
                const store = (ledgers.get('inspection') as NetworkLedger).history;
                const toHeight = await commonHeight(['inspection', 'tax']);
                const report = await verifyConsensus(source('inspection'), { store, chaincode, toHeight });
                expect(report.problems.map((problem) => problem.blockNumber), JSON.stringify(report.problems)).to.deep.equal([Number(block.number)]);
                expect(report.problems[0]?.problem).to.match(new RegExp(`the node's block ${block.number} differs from what the transactions at height \\d+ execute to`));
                const untouched = await verifyConsensus(source('tax'), { store: (ledgers.get('tax') as NetworkLedger).history, chaincode, toHeight });
                expect(untouched.problems, 'tax\'s node is as the chain says').to.deep.equal([]);
                const divergences = await stateDivergences(report.state.entries(), (store as LedgerStore).statePages());
                expect(divergences.map((divergence) => divergence.key)).to.include(row.key.toString('utf8'));
            } finally {
                await pool.query('UPDATE ledger_blocks SET data = $2::bytea WHERE number = $1::bigint', [block.number, block.data]);
                await pool.query("UPDATE world_state SET value = $2::bytea WHERE namespace = 'counterfoil' AND key = $1::bytea", [row.key, row.value]);
            }
        });
    });
});
