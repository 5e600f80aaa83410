import { createHash } from 'node:crypto';
import { EmbeddedLedger } from '../../network/embedded';
import { freshDatabase } from '../support/postgres';
import type { BackendFactory, LedgerBackend } from './backend';
import { testKeys } from '../support/keys';

const embedded: BackendFactory = {
    name: 'embedded ledger',
    async create(): Promise<LedgerBackend> {
        const database = await freshDatabase('conformance');
        const ledger = await EmbeddedLedger.open({ pool: database.pool, keys: await testKeys() });
        return {
            name: 'embedded ledger',
            ledger,
            identity: (mspId, request) => ledger.issueIdentity(mspId, {
                name: request.name,
                attributes: { ...(request.role ? { role: request.role } : {}), ...(request.uscc ? { uscc: request.uscc } : {}) },
            }),
            async fingerprint(): Promise<string> {
                const info = await ledger.info();
                const state = await ledger.ledgerStore.allState();
                const digest = createHash('sha256');
                for (const [key, entry] of state) {
                    digest.update(key).update('\u0000').update(entry.value).update('\u0000');
                }
                return `${info.height}:${info.currentBlockHash}:${digest.digest('hex')}`;
            },
            async close(): Promise<void> {
                await ledger.close();
                await database.drop();
            },
        };
    },
};

/** Every ledger backend the conformance suite runs on in this environment. */
export function backends(): BackendFactory[] {
    return [embedded];
}
