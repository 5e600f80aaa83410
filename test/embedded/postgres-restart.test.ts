import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Pool } from 'pg';
import type { Handoff } from '@counterfoil/chaincode';
import { replayDivergences, verifyChain } from '../../network/audit';
import { EmbeddedLedger } from '../../network/embedded';
import { createDatabase, type PostgresServer, startEmbeddedPostgres } from '../../network/postgres';
import { makeUscc } from '../conformance/fixtures';
import { freePort } from '../support/postgres';
import { testKeys } from '../support/keys';

describe('the embedded ledger when PostgreSQL restarts', function () {
    this.timeout(180_000);
    let folder: string;
    let port: number;
    let server: PostgresServer | undefined;
    let pool: Pool | undefined;
    let ledger: EmbeddedLedger | undefined;

    before(async () => {
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-test-pg-restart-'));
        await chmod(folder, 0o755);
        port = await freePort();
        server = await startEmbeddedPostgres({ dataDir: join(folder, 'data'), port });
    });

    after(async () => {
        // Bounded, so that a failing run still stops its PostgreSQL server.
        const within = (work: Promise<unknown> | undefined): Promise<unknown> =>
            Promise.race([work?.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000))]);
        await within(ledger?.close());
        await within(pool?.end());
        await server?.stop();
        await rm(folder, { recursive: true, force: true });
    });

    it('keeps every transaction it reported committed, and goes on committing after the restart', async () => {
        pool = new Pool({ connectionString: await createDatabase((server as PostgresServer).url, 'restart'), max: 10 });
        ledger = await EmbeddedLedger.open({ pool, keys: await testKeys() });
        const open = ledger;
        const uscc = makeUscc(515151);
        const customs = await open.issueIdentity('CustomsMSP', { name: 'officer', attributes: { role: 'operator' } });
        const declaration = { type: 'EXPORT_DECLARATION', number: '220120267000000001', holder: uscc, validFrom: new Date(Date.now() - 86_400_000).toISOString(), validTo: new Date(Date.now() + 86_400_000).toISOString() };
        await open.submit({ identity: customs, contract: 'documents', transaction: 'Issue', arguments: [JSON.stringify(declaration)], transient: { content: Buffer.from('d') } });

        const committed: { messageId: string; transactionId: string }[] = [];
        let refused = 0;
        // Submits that were under way while the server was down (they waited it out, or were refused).
        let spanned = 0;
        const outage = { stoppedAt: Infinity, startedAt: Infinity };
        let sequence = 0;
        let running = true;
        const client = async (): Promise<void> => {
            while (running) {
                const messageId = `PG-RESTART-${++sequence}`;
                const began = Date.now();
                try {
                    const result = await open.submit({
                        identity: customs, contract: 'handoffs', transaction: 'Send',
                        arguments: [JSON.stringify({ messageId, recipient: 'TaxMSP', subject: uscc, document: { type: 'EXPORT_DECLARATION', number: declaration.number }, payloadHash: 'b'.repeat(64), size: 1 })],
                    });
                    committed.push({ messageId, transactionId: result.transactionId });
                    spanned += began <= outage.stoppedAt && Date.now() >= outage.startedAt ? 1 : 0;
                } catch {
                    refused++; // the database is down: the caller is told, and may retry
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
            }
        };
        const clients = Array.from({ length: 4 }, client);
        while (committed.length < 100) {
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        outage.stoppedAt = Date.now();
        await (server as PostgresServer).stop();
        await new Promise((resolve) => setTimeout(resolve, 500));
        server = await startEmbeddedPostgres({ dataDir: join(folder, 'data'), port });
        outage.startedAt = Date.now();
        const before = committed.length;
        const deadline = Date.now() + 60_000;
        while (committed.length < before + 100 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        running = false;
        await Promise.all(clients);
        expect(committed.length, 'transactions committed after the restart').to.be.at.least(before + 100);

        for (const entry of committed) {
            const status = await open.transaction(entry.transactionId);
            expect(status?.validationCode, entry.messageId).to.equal('VALID');
            const handoff = JSON.parse(Buffer.from(await open.evaluate({
                identity: customs, contract: 'handoffs', transaction: 'Get', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId: entry.messageId })],
            })).toString('utf8')) as Handoff;
            expect(handoff.transactionId).to.equal(entry.transactionId);
        }
        expect((await verifyChain(open.ledgerStore)).problems).to.deep.equal([]);
        expect(await replayDivergences(open.ledgerStore)).to.deep.equal([]);
        expect(refused + spanned, 'some submits met the database down (refused, or waited it out)').to.be.greaterThan(0);
    });
});
