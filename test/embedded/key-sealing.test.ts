import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EmbeddedLedger } from '../../network/embedded';
import { KeySealer } from '../../network/membership';
import { GatewayHarness } from '../gateway/harness';
import { PERSONAS } from '../gateway/personas';
import { testKeys } from '../support/keys';
import { freshDatabase, type TestDatabase } from '../support/postgres';

describe('private keys at rest', function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let folder: string;

    before(async () => {
        database = await freshDatabase('key sealing');
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-keys-'));
    });

    after(async () => {
        await database?.drop();
        await rm(folder, { recursive: true, force: true });
    });

    const stored = async (pool = database.pool, table = 'msp_authorities'): Promise<string[]> =>
        (await pool.query<{ private_key: string }>(`SELECT private_key FROM ${table}`)).rows.map((row) => row.private_key);

    it('are sealed in PostgreSQL: a dump of the database holds no private key in the clear', async () => {
        const harness = await GatewayHarness.start();
        try {
            // Reading a record from the ledger enrols the principal: it now has a key of its own.
            for (const persona of ['customs', 'exporter', 'auditor'] as const) {
                expect((await harness.request('GET', '/v1/documents/LICENCE/NEVER-ISSUED', { token: await harness.token(PERSONAS[persona]) })).status).to.equal(404);
            }
            const keys = [...await stored(harness.database.pool), ...await stored(harness.database.pool, 'gateway_identities')];
            expect(keys.length, 'six authorities and three principals').to.equal(9);
            expect(keys.filter((key) => !KeySealer.isSealed(key) || key.includes('PRIVATE KEY'))).to.deep.equal([]);
        } finally {
            await harness.stop();
        }
    });

    it('do not open with another key-encryption key', async () => {
        const ledger = await EmbeddedLedger.open({ pool: database.pool, keys: await testKeys() });
        await ledger.close();
        const error = await EmbeddedLedger.open({ pool: database.pool, keys: await KeySealer.open(join(folder, 'another-key')) }).catch((caught: Error) => caught);
        expect(error).to.be.instanceOf(Error);
        expect((error as Error).message).to.match(/does not open with this hub's key-encryption key/);
    });

    it('stored in the clear by an earlier version are sealed when the ledger opens, and still sign', async () => {
        const keys = await testKeys();
        for (const row of (await database.pool.query<{ msp_id: string; private_key: string }>('SELECT msp_id, private_key FROM msp_authorities')).rows) {
            await database.pool.query('UPDATE msp_authorities SET private_key = $2::text WHERE msp_id = $1::text', [row.msp_id, keys.unseal(row.private_key, `msp_authorities:${row.msp_id}`)]);
        }
        expect((await stored()).every((key) => key.includes('PRIVATE KEY'))).to.equal(true);
        const ledger = await EmbeddedLedger.open({ pool: database.pool, keys });
        try {
            expect((await stored()).every((key) => KeySealer.isSealed(key))).to.equal(true);
            const officer = await ledger.issueIdentity('CustomsMSP', { name: 'officer', attributes: { role: 'operator' } });
            const policies = await ledger.evaluate({ identity: officer, contract: 'policies', transaction: 'ListDeadlines', arguments: ['{}'] });
            expect(JSON.parse(Buffer.from(policies).toString('utf8'))).to.be.an('object');
        } finally {
            await ledger.close();
        }
    });
});
