import { createHash } from 'node:crypto';
import { EmbeddedLedger } from '../../network/embedded';
import type { PartyLedger } from '../../network/ledger';
import { freshDatabase } from '../support/postgres';
import { startTestNetwork } from '../support/network';
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
            fingerprint: () => fingerprintOf(ledger),
            async close(): Promise<void> {
                await ledger.close();
                await database.drop();
            },
        };
    },
};

/** A fingerprint of everything on a ledger: its tip and every key of its world state. */
async function fingerprintOf(ledger: PartyLedger): Promise<string> {
    const info = await ledger.info();
    const digest = createHash('sha256');
    for await (const page of ledger.history.statePages()) {
        for (const [key, entry] of page) {
            digest.update(key).update('\u0000').update(entry.value).update('\u0000');
        }
    }
    return `${info.height}:${info.currentBlockHash}:${digest.digest('hex')}`;
}

/** A one-validator CometBFT network started by the project's own scripts, used through its node. */
const network: BackendFactory = {
    name: 'CometBFT network (1 validator)',
    async create(): Promise<LedgerBackend> {
        const running = await startTestNetwork({ validators: 1 });
        const ledger = await running.ledger('customs');
        return {
            name: 'CometBFT network (1 validator)',
            ledger,
            identity: (mspId, request) => ledger.enrolment.enrol(mspId, {
                name: request.name,
                attributes: { ...(request.role ? { role: request.role } : {}), ...(request.uscc ? { uscc: request.uscc } : {}) },
            }),
            fingerprint: () => fingerprintOf(ledger),
            close: () => running.stop(),
        };
    },
};

/**
 * Every ledger backend the conformance suite runs on: the embedded ledger and a CometBFT network
 * (COUNTERFOIL_CONFORMANCE_BACKENDS=embedded or =network picks one).
 */
export function backends(): BackendFactory[] {
    const wanted = (process.env.COUNTERFOIL_CONFORMANCE_BACKENDS ?? 'embedded,network').split(',');
    return [embedded, network].filter((factory) => wanted.some((name) => factory.name.toLowerCase().includes(name.trim().toLowerCase())));
}
