import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import type { Handoff } from '@counterfoil/chaincode';
import { replayDivergences, verifyChain } from '../../network/audit';
import { EmbeddedLedger } from '../../network/embedded';
import { LedgerError } from '../../network/ledger';
import { makeUscc } from '../conformance/fixtures';
import { freshDatabase, type TestDatabase } from '../support/postgres';
import { testKeys } from '../support/keys';

interface Reported {
    readonly messageId: string;
    readonly transactionId: string;
    readonly blockNumber: number;
}

/** Opens the ledger once the killed process's database session (and its lock) is gone. */
async function reopen(database: TestDatabase): Promise<EmbeddedLedger> {
    for (let attempt = 0; ; attempt++) {
        try {
            return await EmbeddedLedger.open({ pool: database.pool, keys: await testKeys() });
        } catch (error) {
            if (!(error instanceof LedgerError) || error.code !== 'UNAVAILABLE' || attempt > 100) {
                throw error;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }
}

describe('the embedded ledger after kill -9', function () {
    this.timeout(180_000);
    let database: TestDatabase;
    let worker: ChildProcess | undefined;

    before(async () => {
        database = await freshDatabase('crash');
    });

    after(async () => {
        worker?.kill('SIGKILL');
        await database?.drop();
    });

    it('keeps every transaction it reported committed, and its hash chain verifies', async () => {
        const uscc = makeUscc(424242);
        const reported: Reported[] = [];
        const stderr: string[] = [];
        worker = spawn(process.execPath, [join(__dirname, 'crash-worker.js'), database.url, uscc], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
        worker.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
        const exited = new Promise<NodeJS.Signals | null>((resolve) => worker?.once('exit', (_code, signal) => resolve(signal)));
        const lines = createInterface({ input: worker.stdio[3] as NodeJS.ReadableStream });
        // Kill it mid-stream, with transactions in flight, once a few hundred have committed.
        await new Promise<void>((resolve, reject) => {
            lines.on('line', (line) => {
                const entry = JSON.parse(line) as Partial<Reported> & { ready?: boolean };
                if (entry.messageId) {
                    reported.push(entry as Reported);
                    if (reported.length === 400) {
                        worker?.kill('SIGKILL');
                        resolve();
                    }
                }
            });
            worker?.once('exit', (code) => code !== null && reject(new Error(`worker exited with ${code}: ${stderr.join('')}`)));
        });
        expect(await exited).to.equal('SIGKILL');
        lines.close();

        const ledger = await reopen(database);
        try {
            const customs = await ledger.issueIdentity('CustomsMSP', { name: 'after-crash', attributes: { role: 'operator' } });
            for (const entry of reported) {
                const status = await ledger.transaction(entry.transactionId);
                expect(status, `transaction ${entry.transactionId}`).to.deep.equal({ blockNumber: BigInt(entry.blockNumber), validationCode: 'VALID' });
                const handoff = JSON.parse(Buffer.from(await ledger.evaluate({
                    identity: customs, contract: 'handoffs', transaction: 'Get', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId: entry.messageId })],
                })).toString('utf8')) as Handoff;
                expect(handoff.transactionId).to.equal(entry.transactionId);
            }
            const chain = await verifyChain(ledger.ledgerStore);
            expect(chain.problems).to.deep.equal([]);
            expect(chain.lastHash).to.equal((await ledger.info()).currentBlockHash);
            expect(chain.valid).to.be.at.least(reported.length + 1);
            expect(await replayDivergences(ledger.ledgerStore)).to.deep.equal([]);

            // The restarted ledger carries on from the last committed block.
            const heightBefore = (await ledger.info()).height;
            const committed = await ledger.submit({
                identity: customs, contract: 'handoffs', transaction: 'Send',
                arguments: [JSON.stringify({
                    messageId: 'AFTER-RESTART', recipient: 'ForexMSP', subject: uscc, document: { type: 'EXPORT_DECLARATION', number: '220120260000009999' },
                    payloadHash: 'a'.repeat(64), size: 1,
                })],
            });
            expect(committed.blockNumber).to.equal(heightBefore);
            expect((await verifyChain(ledger.ledgerStore)).problems).to.deep.equal([]);
        } finally {
            await ledger.close();
        }
    });
});
