import { createHash } from 'node:crypto';
import { expect } from 'chai';
import pino from 'pino';
import { startGateway } from '../../gateway';
import { Indexer } from '../../gateway/indexer/indexer';
import { DAY, isoIn } from '../conformance/fixtures';
import { until } from '../support/until';
import { GatewayHarness } from './harness';
import { EXPORTER_USCC, PERSONAS } from './personas';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

describe('the gateway across restarts', function () {
    this.timeout(60_000);
    let harness: GatewayHarness;
    let customs: string;
    const declaration = '220120261500000001';

    async function send(messageId: string): Promise<void> {
        const answer = await harness.request('POST', '/v1/handoffs', {
            token: customs,
            body: { messageId, recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(messageId), size: 1 },
        });
        expect(answer.status, answer.text).to.equal(201);
    }

    async function counts(): Promise<{ handoffs: number; events: number; checkpoint: number }> {
        const result = await harness.database.pool.query<{ handoffs: string; events: string; checkpoint: string }>(
            `SELECT (SELECT count(*) FROM handoffs) AS handoffs, (SELECT count(*) FROM ledger_events) AS events,
                    (SELECT block_number FROM indexer_checkpoint WHERE name = 'ledger') AS checkpoint`);
        const row = result.rows[0] as { handoffs: string; events: string; checkpoint: string };
        return { handoffs: Number(row.handoffs), events: Number(row.events), checkpoint: Number(row.checkpoint) };
    }

    before(async () => {
        harness = await GatewayHarness.start();
        customs = await harness.token(PERSONAS.customs);
        const answer = await harness.request('POST', '/v1/documents', {
            token: customs, body: { type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: 'ZGF0YQ==' },
        });
        expect(answer.status).to.equal(201);
    });

    after(async () => {
        await harness?.stop();
    });

    it('resumes indexing after the last block it committed, without losing or repeating an event', async () => {
        await send('RESTART-1');
        await harness.gateway.services.indexer.stop();
        // Written while no indexer runs: the next one must pick these up.
        const identity = await harness.gateway.services.identities.identityFor(PERSONAS.customs);
        for (const messageId of ['RESTART-2', 'RESTART-3']) {
            await harness.ledger.submit({
                identity, contract: 'handoffs', transaction: 'Send',
                arguments: [JSON.stringify({ messageId, recipient: 'ForexMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(messageId), size: 1 })],
            });
        }
        const before = await counts();
        expect(before.handoffs).to.equal(1);
        const resumed = new Indexer(harness.ledger, harness.database.pool);
        await resumed.start();
        try {
            await resumed.caughtUp((await harness.ledger.info()).height - 1n);
            const after = await counts();
            expect(after.handoffs).to.equal(3);
            expect(after.events).to.equal(before.events + 2);
            expect(after.checkpoint).to.equal(Number((await harness.ledger.info()).height - 1n));
        } finally {
            await resumed.stop();
        }
    });

    it('changes nothing when blocks are indexed a second time', async () => {
        const before = await counts();
        await harness.database.pool.query("UPDATE indexer_checkpoint SET block_number = 0 WHERE name = 'ledger'");
        const replaying = new Indexer(harness.ledger, harness.database.pool);
        await replaying.start();
        try {
            await replaying.caughtUp((await harness.ledger.info()).height - 1n);
            const rows = await harness.database.pool.query<{ record: { status: string } }>("SELECT record FROM handoffs WHERE message_id = 'RESTART-1'");
            expect(rows.rows[0]?.record.status).to.equal('SENT');
            expect(await counts()).to.deep.equal(before);
        } finally {
            await replaying.stop();
        }
    });

    it('keeps following the ledger after a write to the query tables fails', async () => {
        // The gateway's own indexer was stopped above; this one runs for the test.
        const indexer = new Indexer(harness.ledger, harness.database.pool);
        await indexer.start();
        const identity = await harness.gateway.services.identities.identityFor(PERSONAS.customs);
        const sendDirect = (messageId: string): Promise<unknown> => harness.ledger.submit({
            identity, contract: 'handoffs', transaction: 'Send',
            arguments: [JSON.stringify({ messageId, recipient: 'ForexMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(messageId), size: 1 })],
        });
        try {
            await indexer.caughtUp((await harness.ledger.info()).height - 1n);
            // The indexer is waiting for the next block when its write of that block fails.
            await harness.database.pool.query('ALTER TABLE handoffs RENAME TO handoffs_away');
            try {
                await sendDirect('OUTAGE-1');
                const failing = (await harness.ledger.info()).height - 1n;
                const deadline = Date.now() + 10_000;
                while (!indexer.failure && Date.now() < deadline) {
                    await new Promise((resolve) => setTimeout(resolve, 20));
                }
                expect(indexer.failure?.blockNumber).to.equal(failing);
                expect(indexer.failure?.error.message).to.match(new RegExp(`block ${failing} .*handoffs`));
                // A write waiting to read its own block answers at once rather than after its wait.
                let waited: unknown;
                await indexer.caughtUp(failing, 60_000).catch((error: unknown) => { waited = error; });
                expect(waited).to.be.instanceOf(Error);
            } finally {
                await harness.database.pool.query('ALTER TABLE handoffs_away RENAME TO handoffs');
            }
            await sendDirect('OUTAGE-2');
            await until(async () => indexer.failure === undefined && indexer.caughtUp((await harness.ledger.info()).height - 1n, 1).then(() => true, () => false), 'the indexer to recover');
            const listed = await harness.database.pool.query<{ message_id: string }>("SELECT message_id FROM handoffs WHERE message_id LIKE 'OUTAGE-%' ORDER BY message_id");
            expect(listed.rows.map((row) => row.message_id)).to.deep.equal(['OUTAGE-1', 'OUTAGE-2']);
        } finally {
            await indexer.stop();
        }
    });

    it('finishes requests in flight when it stops, then refuses new connections', async () => {
        const gateway = await startGateway({
            pool: harness.database.pool, ledger: harness.ledger, logger: pino({ level: 'silent' }), port: 0, host: '127.0.0.1',
            tokenKeyFile: `${harness.keyDir}/token.pem`, proofKeyFile: `${harness.keyDir}/proof.pem`,
        });
        const body = JSON.stringify({ messageId: 'IN-FLIGHT-1', recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256('f'), size: 1 });
        // The request is held at its commit (the block table locked) until the gateway is stopping.
        const lock = await harness.database.pool.connect();
        let stopped: Promise<void> | undefined;
        try {
            await lock.query('BEGIN');
            await lock.query('LOCK TABLE ledger_blocks IN ACCESS EXCLUSIVE MODE');
            const inFlight = fetch(`${gateway.url}/v1/handoffs`, { method: 'POST', headers: { Authorization: `Bearer ${customs}`, 'Content-Type': 'application/json' }, body });
            await until(async () => (await harness.database.pool.query(
                `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                  WHERE l.relation = 'ledger_blocks'::regclass AND NOT l.granted AND a.query LIKE '%INSERT INTO ledger_blocks%'`)).rowCount !== 0,
            'the request to wait at its commit');
            stopped = gateway.stop();
            await lock.query('COMMIT');
            const answer = await inFlight;
            expect(answer.status).to.equal(201);
        } finally {
            await lock.query('ROLLBACK').catch(() => undefined);
            lock.release();
        }
        await stopped;
        let refused = false;
        try {
            await fetch(`${gateway.url}/healthz`);
        } catch {
            refused = true;
        }
        expect(refused, 'a stopped gateway accepts no connection').to.equal(true);
    });
});
