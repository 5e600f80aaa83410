import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { Committed, Ledger, SigningIdentity } from '../../network/ledger';
import { LedgerError } from '../../network/ledger';

/** One user of the ledger: submits and evaluates JSON requests as its own identity. */
export class Actor {
    constructor(readonly ledger: Ledger, readonly identity: SigningIdentity, readonly label: string) {}

    async submit<T>(contract: string, transaction: string, request: unknown, transient?: Record<string, Uint8Array>): Promise<T> {
        const committed = await this.submitRaw(contract, transaction, request, transient);
        return JSON.parse(Buffer.from(committed.result).toString('utf8')) as T;
    }

    submitRaw(contract: string, transaction: string, request: unknown, transient?: Record<string, Uint8Array>): Promise<Committed> {
        const argument = typeof request === 'string' ? request : JSON.stringify(request);
        return this.ledger.submit({ identity: this.identity, contract, transaction, arguments: [argument], transient });
    }

    async evaluate<T>(contract: string, transaction: string, request: unknown): Promise<T> {
        const argument = typeof request === 'string' ? request : JSON.stringify(request);
        const result = await this.ledger.evaluate({ identity: this.identity, contract, transaction, arguments: [argument] });
        return JSON.parse(Buffer.from(result).toString('utf8')) as T;
    }
}

/** Asserts that a call fails with a ledger error of the given code (and field, when given). */
export async function expectRefusal(call: Promise<unknown>, code: string, field?: string): Promise<LedgerError> {
    let caught: unknown;
    try {
        await call;
    } catch (error) {
        caught = error;
    }
    expect(caught, `expected a ${code} refusal, but the call succeeded`).to.be.instanceOf(LedgerError);
    const error = caught as LedgerError;
    expect(error.code, error.message).to.equal(code);
    if (field !== undefined) {
        expect(error.field, error.message).to.equal(field);
    }
    return error;
}

export function sha256(value: string | Uint8Array): string {
    return createHash('sha256').update(value).digest('hex');
}
