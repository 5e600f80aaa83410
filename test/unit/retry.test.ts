import { expect } from 'chai';
import { CommitError, EndorseError, type Committed, type Ledger, submitRetryingConflicts, type TransactionRequest } from '../../network/ledger';

/** A ledger whose submits fail with the given errors, in order, then commit. */
function ledgerFailing(errors: Error[]): Ledger & { submits: number } {
    const ledger = {
        submits: 0,
        async submit(): Promise<Committed> {
            const error = errors[ledger.submits++];
            if (error) {
                throw error;
            }
            return { result: new Uint8Array(), transactionId: `tx-${ledger.submits}`, blockNumber: BigInt(ledger.submits) };
        },
    };
    return ledger as unknown as Ledger & { submits: number };
}

const conflict = (code = 'MVCC_READ_CONFLICT'): CommitError => new CommitError({ validationCode: code, blockNumber: 1n, transactionId: 'tx' });
const request = {} as TransactionRequest;
const retry = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2, random: (): number => 0 };

describe('submitting again after losing a race at commit', () => {
    it('endorses again after read conflicts and phantom reads, until one commits', async () => {
        const ledger = ledgerFailing([conflict(), conflict('PHANTOM_READ_CONFLICT'), conflict()]);
        expect((await submitRetryingConflicts(ledger, request, retry)).transactionId).to.equal('tx-4');
        expect(ledger.submits).to.equal(4);
    });

    it('gives up after its attempts, with the last conflict', async () => {
        const ledger = ledgerFailing(Array.from({ length: 10 }, () => conflict()));
        const error = await submitRetryingConflicts(ledger, request, retry).catch((caught: unknown) => caught);
        expect(error).to.be.instanceOf(CommitError);
        expect(ledger.submits).to.equal(4);
    });

    it('answers a refusal by the chaincode, or another invalidation, at once', async () => {
        for (const refusal of [new EndorseError({ code: 'CONFLICT', message: 'no' }), conflict('DUPLICATE_TXID')]) {
            const ledger = ledgerFailing([refusal]);
            expect(await submitRetryingConflicts(ledger, request, retry).catch((caught: unknown) => caught)).to.equal(refusal);
            expect(ledger.submits).to.equal(1);
        }
    });
});
