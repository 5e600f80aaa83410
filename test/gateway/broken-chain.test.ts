import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import pino from 'pino';
import { type RunningGateway, startGateway } from '../../gateway';
import { EmbeddedLedger } from '../../network/embedded';
import { DAY, isoIn } from '../conformance/fixtures';
import { GatewayHarness } from './harness';
import { EXPORTER_USCC, PERSONAS } from './personas';
import { testKeys } from '../support/keys';

describe('a hub whose stored chain does not verify', function () {
    this.timeout(120_000);
    let harness: GatewayHarness;

    before(async () => {
        harness = await GatewayHarness.start();
        const customs = await harness.token(PERSONAS.customs);
        const issued = await harness.request('POST', '/v1/documents', {
            token: customs, body: { type: 'EXPORT_DECLARATION', number: '220120261800000001', holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: 'ZGF0YQ==' },
        });
        expect(issued.status, issued.text).to.equal(201);
        // The hub stops; someone changes a stored block; the hub starts again.
        await harness.gateway.stop();
        await harness.ledger.close();
    });

    after(async () => {
        await harness?.database.drop();
        await rm(harness?.keyDir ?? '', { recursive: true, force: true });
    });

    it('starts and serves reads, but takes no writes, and says why in /readyz', async () => {
        const block = (await harness.database.pool.query<{ number: string; data: Buffer }>('SELECT number, data FROM ledger_blocks ORDER BY number DESC LIMIT 1')).rows[0];
        await harness.database.pool.query('UPDATE ledger_blocks SET data = overlay(data placing $2::bytea from 30 for 1) WHERE number = $1::bigint', [block?.number, Buffer.from('#')]);
        const ledger = await EmbeddedLedger.open({ pool: harness.database.pool, keys: await testKeys() });
        let gateway: RunningGateway | undefined;
        try {
            expect(ledger.integrity()).to.deep.include({ verified: false });
            gateway = await startGateway({
                pool: harness.database.pool, ledger, logger: pino({ level: 'silent' }), port: 0, host: '127.0.0.1',
                tokenKeyFile: `${harness.keyDir}/token.pem`, proofKeyFile: `${harness.keyDir}/proof.pem`,
            });
            const ready = await fetch(`${gateway.url}/readyz`);
            expect(ready.status).to.equal(503);
            const checks = (await ready.json() as { checks: { chain: { verified: boolean; problems: { blockNumber: number; problem: string }[] } } }).checks;
            expect(checks.chain.verified).to.equal(false);
            expect(checks.chain.problems.map((problem) => problem.blockNumber)).to.include(Number(block?.number));
            const customs = `Bearer ${await harness.token(PERSONAS.customs)}`;
            const read = await fetch(`${gateway.url}/v1/documents/EXPORT_DECLARATION/220120261800000001`, { headers: { Authorization: customs } });
            expect(read.status).to.equal(200);
            const write = await fetch(`${gateway.url}/v1/documents`, {
                method: 'POST', headers: { Authorization: customs, 'Content-Type': 'application/json' },
                body: JSON.stringify({ type: 'EXPORT_DECLARATION', number: '220120261800000002', holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: 'ZGF0YQ==' }),
            });
            expect(write.status).to.equal(503);
            const problem = await write.json() as { code: string; field: string; detail: string };
            expect(problem).to.deep.include({ code: 'UNAVAILABLE', field: 'ledger' });
            expect(problem.detail).to.match(new RegExp(`block ${String(block?.number)}`));
            expect((await harness.ledger.info()).height, 'nothing was added to the broken chain').to.equal(BigInt(Number(block?.number) + 1));
        } finally {
            await gateway?.stop();
            await ledger.close();
            await harness.database.pool.query('UPDATE ledger_blocks SET data = $2::bytea WHERE number = $1::bigint', [block?.number, block?.data]);
        }
        const restored = await EmbeddedLedger.open({ pool: harness.database.pool, keys: await testKeys() });
        try {
            expect(restored.integrity()).to.deep.include({ verified: true, problems: [] });
        } finally {
            await restored.close();
        }
    });
});
