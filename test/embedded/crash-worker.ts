/**
 * A process hosting the embedded ledger under load, for the crash test: it sends handoffs from
 * several concurrent clients and reports one JSON line per committed transaction on file
 * descriptor 3 (stdout belongs to the libraries' logs), until killed.
 * Usage: node crash-worker.js <database url> <enterprise uscc>
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Pool } from 'pg';
import { EmbeddedLedger } from '../../network/embedded';
import { testKeys } from '../support/keys';

process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'WARNING';

const report = createWriteStream('', { fd: 3 });

async function main(): Promise<void> {
    const [databaseUrl, uscc] = process.argv.slice(2);
    if (!databaseUrl || !uscc) {
        throw new Error('usage: crash-worker <database url> <enterprise uscc>');
    }
    const pool = new Pool({ connectionString: databaseUrl, max: 8 });
    const ledger = await EmbeddedLedger.open({ pool, keys: await testKeys() });
    const customs = await ledger.issueIdentity('CustomsMSP', { name: 'crash-officer', attributes: { role: 'operator' } });
    const declaration = {
        type: 'EXPORT_DECLARATION', number: '220120260000009999', holder: uscc,
        validFrom: new Date(Date.now() - 86_400_000).toISOString(), validTo: new Date(Date.now() + 86_400_000 * 30).toISOString(),
    };
    await ledger.submit({
        identity: customs, contract: 'documents', transaction: 'Issue', arguments: [JSON.stringify(declaration)],
        transient: { content: Buffer.from('declaration content') },
    });
    report.write(`${JSON.stringify({ ready: true })}\n`);
    let sequence = 0;
    const client = async (): Promise<void> => {
        for (;;) {
            const messageId = `CRASH-${process.pid}-${++sequence}`;
            const committed = await ledger.submit({
                identity: customs, contract: 'handoffs', transaction: 'Send',
                arguments: [JSON.stringify({
                    messageId, recipient: 'TaxMSP', subject: uscc, document: { type: 'EXPORT_DECLARATION', number: declaration.number },
                    payloadHash: createHash('sha256').update(messageId).digest('hex'), size: messageId.length,
                })],
            });
            report.write(`${JSON.stringify({ messageId, transactionId: committed.transactionId, blockNumber: Number(committed.blockNumber) })}\n`);
        }
    };
    await Promise.all(Array.from({ length: 8 }, client));
}

main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
});
