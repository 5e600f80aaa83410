import { expect } from 'chai';
import type { DocumentRecord } from '@counterfoil/chaincode';
import { replayDivergences, verifyChain } from '../../network/audit';
import { EmbeddedLedger } from '../../network/embedded';
import { MembershipAuthority, signingIdentity } from '../../network/membership';
import type { Block } from '../../network/storage';
import { LedgerError, type SigningIdentity } from '../../network/ledger';
import { expectRefusal } from '../conformance/client';
import { contentOf, makeUscc, permitRequest } from '../conformance/fixtures';
import { freshDatabase, type TestDatabase } from '../support/postgres';
import { testKeys } from '../support/keys';

describe('the embedded ledger', function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let ledger: EmbeddedLedger;
    let commerce: SigningIdentity;
    const holder = makeUscc(90210);

    async function issue(identity: SigningIdentity = commerce): Promise<DocumentRecord> {
        const request = permitRequest({ holder });
        const committed = await ledger.submit({ identity, contract: 'documents', transaction: 'Issue', arguments: [JSON.stringify(request)], transient: contentOf(request) });
        return JSON.parse(Buffer.from(committed.result).toString('utf8')) as DocumentRecord;
    }

    before(async () => {
        database = await freshDatabase('ledger');
        ledger = await EmbeddedLedger.open({ pool: database.pool, keys: await testKeys() });
        commerce = await ledger.issueIdentity('CommerceMSP', { name: 'licensing', attributes: { role: 'operator' } });
    });

    after(async () => {
        await ledger?.close();
        await database?.drop();
    });

    it('starts from a configuration block naming every organisation\'s root certificate and the collections', async () => {
        const blocks = ledger.rawBlocks(0n);
        const first = (await blocks[Symbol.asyncIterator]().next()).value as Block;
        blocks.close();
        expect(first.header).to.include({ number: 0, previousHash: '' });
        const data = first.data;
        expect(data.kind).to.equal('config');
        if (data.kind === 'config') {
            expect(data.config.organisations.map((organisation) => organisation.mspId)).to.deep.equal(
                ['CustomsMSP', 'CommerceMSP', 'TaxMSP', 'ForexMSP', 'InspectionMSP', 'EnterprisesMSP']);
            expect(data.config.organisations[1]?.rootCertificate).to.equal(ledger.authority('CommerceMSP').record.certificate);
            expect(data.config.collections.map((collection) => collection.name)).to.deep.equal(['licenceContent', 'certificateContent', 'declarationContent']);
        }
    });

    it('refuses a certificate issued by a certificate authority outside the ledger', async () => {
        const rogue = await MembershipAuthority.create('CommerceMSP');
        const forged = await rogue.issue({ name: 'licensing', attributes: { role: 'operator' } });
        const before = await ledger.info();
        await expectRefusal(issue(forged), 'UNAUTHENTICATED', 'identity');
        expect(await ledger.info()).to.deep.equal(before);
    });

    it('refuses an expired certificate', async () => {
        const expired = await ledger.issueIdentity('CommerceMSP', { name: 'retired', attributes: { role: 'operator' }, notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
        await expectRefusal(issue(expired), 'UNAUTHENTICATED', 'identity');
    });

    it('refuses a proposal signed with a key that is not the certificate\'s', async () => {
        const other = await ledger.issueIdentity('CommerceMSP', { name: 'other', attributes: { role: 'operator' } });
        const impostor = signingIdentity('CommerceMSP', commerce.certificate, other.privateKey);
        await expectRefusal(issue(impostor), 'UNAUTHENTICATED', 'identity');
    });

    it('refuses a certificate presented under another organisation\'s name', async () => {
        const claimed: SigningIdentity = { ...commerce, mspId: 'CustomsMSP' };
        await expectRefusal(issue(claimed), 'UNAUTHENTICATED', 'identity');
    });

    it('chains every block to the one before, and its state equals the replay of its blocks', async () => {
        for (let index = 0; index < 5; index++) {
            await issue();
        }
        const report = await verifyChain(ledger.ledgerStore);
        expect(report.problems).to.deep.equal([]);
        expect(report.lastHash).to.equal((await ledger.info()).currentBlockHash);
        expect(report.valid).to.be.at.least(5);
        expect(await replayDivergences(ledger.ledgerStore)).to.deep.equal([]);
    });

    it('reads the stored state a page at a time, every key once and in order', async () => {
        const whole: string[] = [];
        for await (const page of ledger.ledgerStore.statePages(1_000_000)) {
            whole.push(...page.map(([id]) => id));
        }
        const paged: string[] = [];
        let pages = 0;
        for await (const page of ledger.ledgerStore.statePages(3)) {
            expect(page.length).to.be.at.most(3);
            paged.push(...page.map(([id]) => id));
            pages++;
        }
        expect(whole.length).to.be.above(6);
        expect(pages).to.be.at.least(Math.ceil(whole.length / 3));
        expect(paged).to.deep.equal(whole);
        expect(new Set(paged).size).to.equal(paged.length);
    });

    it('pinpoints a block whose stored bytes were altered', async () => {
        await issue();
        const height = Number((await ledger.info()).height);
        const target = height - 1;
        const original = await database.pool.query<{ data: Buffer }>('SELECT data FROM ledger_blocks WHERE number = $1::bigint', [target]);
        await database.pool.query('UPDATE ledger_blocks SET data = overlay(data placing \'X\'::bytea from 20 for 1) WHERE number = $1::bigint', [target]);
        try {
            const report = await verifyChain(ledger.ledgerStore);
            // Its data no longer matches its hash (and, here, no longer reads as a block either).
            expect([...new Set(report.problems.map((problem) => problem.blockNumber))]).to.deep.equal([target]);
            expect(report.problems[0]?.problem).to.match(/data hash/);
        } finally {
            await database.pool.query('UPDATE ledger_blocks SET data = $2::bytea WHERE number = $1::bigint', [target, original.rows[0]?.data]);
        }
        expect((await verifyChain(ledger.ledgerStore)).problems).to.deep.equal([]);
    });

    it('pinpoints a world-state row changed behind the ledger\'s back', async () => {
        const licence = await issue();
        const key = Buffer.from(`\u0000document\u0000LICENCE\u0000${licence.number}\u00000001\u0000`, 'utf8');
        const changed = await database.pool.query("UPDATE world_state SET value = convert_to('{}', 'UTF8') WHERE namespace = 'counterfoil' AND key = $1::bytea", [key]);
        expect(changed.rowCount).to.equal(1);
        const divergences = await replayDivergences(ledger.ledgerStore);
        expect(divergences).to.deep.equal([{ namespace: 'counterfoil', key: key.toString('utf8'), problem: 'value differs' }]);
        await database.pool.query("DELETE FROM world_state WHERE namespace = 'counterfoil' AND key = $1::bytea", [key]);
        expect((await replayDivergences(ledger.ledgerStore)).map((divergence) => divergence.problem)).to.deep.equal(['missing']);
    });

    it('lets only one process run a ledger at a time, and carries on from the same block after a restart', async () => {
        await expectRefusal(EmbeddedLedger.open({ pool: database.pool, keys: await testKeys() }), 'UNAVAILABLE');
        const licence = await issue();
        const before = await ledger.info();
        await ledger.close();
        ledger = await EmbeddedLedger.open({ pool: database.pool, keys: await testKeys() });
        expect(await ledger.info()).to.deep.equal(before);
        const read = await ledger.evaluate({ identity: commerce, contract: 'documents', transaction: 'Get', arguments: [JSON.stringify({ type: 'LICENCE', number: licence.number })] });
        expect((JSON.parse(Buffer.from(read).toString('utf8')) as DocumentRecord).number).to.equal(licence.number);
        const next = await ledger.submit({ identity: commerce, contract: 'documents', transaction: 'Get', arguments: [JSON.stringify({ type: 'LICENCE', number: licence.number })] });
        expect(next.blockNumber).to.equal(before.height);
    });

    it('answers UNAVAILABLE, not a refusal of the request, when its state cannot be read', async () => {
        await database.pool.query('ALTER TABLE world_state RENAME TO world_state_away');
        try {
            // A licence never issued: not in the state cache, so the simulation reads the database.
            const failed = await expectRefusal(ledger.evaluate({
                identity: commerce, contract: 'documents', transaction: 'Get', arguments: [JSON.stringify({ type: 'LICENCE', number: 'LIC-NEVER-READ' })],
            }), 'UNAVAILABLE');
            expect(failed.message).to.match(/world_state/);
        } finally {
            await database.pool.query('ALTER TABLE world_state_away RENAME TO world_state');
        }
    });

    it('reports a transaction that lost a race as a CommitError with its validation code', async () => {
        const licence = await issue();
        const customs = await ledger.issueIdentity('CustomsMSP', { name: 'officer', attributes: { role: 'operator' } });
        const declarations = ['220120269000000001', '220120269000000002', '220120269000000003'];
        const outcomes = await Promise.allSettled(declarations.map((declarationNumber) => ledger.submit({
            identity: customs, contract: 'verifications', transaction: 'Verify',
            arguments: [JSON.stringify({
                declarationNumber, permit: { type: 'LICENCE', number: licence.number }, holder, direction: 'EXPORT',
                goods: [{ hsCode: '7208510000', quantity: 10, unit: 'TNE' }], declaredAt: new Date().toISOString(), port: '2201',
            })],
        })));
        const failures = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected').map((outcome) => outcome.reason as LedgerError);
        expect(outcomes.some((outcome) => outcome.status === 'fulfilled')).to.equal(true);
        for (const failure of failures) {
            expect(failure.code).to.equal('ABORTED');
            expect((failure as LedgerError & { validationCode?: string }).validationCode).to.equal('MVCC_READ_CONFLICT');
        }
    });
});
