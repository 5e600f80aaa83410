import { expect } from 'chai';
import type { BackendFactory, LedgerBackend } from './backend';
import { backends } from './backends';
import { Actor } from './client';
import { makeUscc } from './fixtures';

/** The cast of a conformance suite: one user per agency and role, two enterprises. */
export interface World {
    readonly backend: LedgerBackend;
    readonly customs: Actor;
    readonly commerce: Actor;
    readonly tax: Actor;
    readonly forex: Actor;
    readonly inspection: Actor;
    readonly customsAdmin: Actor;
    readonly commerceAdmin: Actor;
    readonly auditor: Actor;
    readonly reconciler: Actor;
    readonly exporter: Actor;
    readonly otherEnterprise: Actor;
    readonly exporterUscc: string;
    readonly otherUscc: string;
    /** Runs a refused call and asserts that nothing on the ledger changed. */
    unchanged(call: () => Promise<unknown>): Promise<void>;
    actor(mspId: string, name: string, attributes: { role?: string; uscc?: string }): Promise<Actor>;
}

let enterpriseSeed = 1000;

export async function createWorld(factory: BackendFactory): Promise<World> {
    const backend = await factory.create();
    const actor = async (mspId: string, name: string, attributes: { role?: string; uscc?: string }): Promise<Actor> =>
        new Actor(backend.ledger, await backend.identity(mspId, { name, ...attributes }), `${name}@${mspId}`);
    const exporterUscc = makeUscc(++enterpriseSeed);
    const otherUscc = makeUscc(++enterpriseSeed);
    return {
        backend,
        customs: await actor('CustomsMSP', 'officer', { role: 'operator' }),
        commerce: await actor('CommerceMSP', 'licensing', { role: 'operator' }),
        tax: await actor('TaxMSP', 'refunds', { role: 'operator' }),
        forex: await actor('ForexMSP', 'receipts', { role: 'operator' }),
        inspection: await actor('InspectionMSP', 'certifier', { role: 'operator' }),
        customsAdmin: await actor('CustomsMSP', 'hub-admin', { role: 'admin' }),
        commerceAdmin: await actor('CommerceMSP', 'commerce-admin', { role: 'admin' }),
        auditor: await actor('CustomsMSP', 'auditor', { role: 'auditor' }),
        reconciler: await actor('CustomsMSP', 'reconciliation', { role: 'reconciler' }),
        exporter: await actor('EnterprisesMSP', exporterUscc, { role: 'enterprise', uscc: exporterUscc }),
        otherEnterprise: await actor('EnterprisesMSP', otherUscc, { role: 'enterprise', uscc: otherUscc }),
        exporterUscc,
        otherUscc,
        actor,
        async unchanged(call: () => Promise<unknown>): Promise<void> {
            const before = await backend.fingerprint();
            await call();
            expect(await backend.fingerprint(), 'the refused call changed the ledger').to.equal(before);
        },
    };
}

/**
 * Declares one suite per ledger backend. The suite's world (a fresh ledger with its cast) is
 * created before its first test and closed after its last; `world` forwards to it.
 */
export function onEveryBackend(subject: string, define: (world: World) => void): void {
    for (const factory of backends()) {
        describe(`${subject} on the ${factory.name}`, function () {
            this.timeout(120_000);
            let current: World | undefined;
            const world = new Proxy({} as World, {
                get: (_target, property) => {
                    if (!current) {
                        throw new Error('the world is created in the suite\'s before hook');
                    }
                    return Reflect.get(current, property) as unknown;
                },
            });
            before(async () => {
                current = await createWorld(factory);
            });
            after(async () => {
                await current?.backend.close();
            });
            define(world);
        });
    }
}
