import { type ErrorCode as ChaincodeErrorCode, parseChaincodeError } from '@counterfoil/chaincode';

export type LedgerErrorCode =
    | ChaincodeErrorCode
    /** The caller's identity or signature was not accepted. */
    | 'UNAUTHENTICATED'
    /** The transaction was ordered but invalidated at commit (MVCC conflict, endorsement policy). */
    | 'ABORTED'
    | 'UNAVAILABLE'
    | 'INTERNAL';

export class LedgerError extends Error {
    readonly code: LedgerErrorCode;
    readonly field?: string;
    readonly transactionId?: string;

    constructor(options: Readonly<{ code: LedgerErrorCode; message: string; field?: string; transactionId?: string; cause?: unknown }>) {
        super(options.message, { cause: options.cause });
        this.name = 'LedgerError';
        this.code = options.code;
        this.field = options.field;
        this.transactionId = options.transactionId;
    }
}

/** The chaincode refused the transaction while endorsing it; nothing was written. */
export class EndorseError extends LedgerError {
    constructor(options: Readonly<{ code: LedgerErrorCode; message: string; field?: string; transactionId?: string; cause?: unknown }>) {
        super(options);
        this.name = 'EndorseError';
    }
}

/** The transaction reached a block but was marked invalid there; its writes were discarded. */
export class CommitError extends LedgerError {
    readonly validationCode: string;
    readonly blockNumber: bigint;

    constructor(options: Readonly<{ validationCode: string; blockNumber: bigint; transactionId: string }>) {
        super({ code: 'ABORTED', message: `transaction ${options.transactionId} was invalidated at commit: ${options.validationCode}`, transactionId: options.transactionId });
        this.name = 'CommitError';
        this.validationCode = options.validationCode;
        this.blockNumber = options.blockNumber;
    }
}

/** Maps the message of a failed chaincode response to a typed error; the one place that reads it. */
export function endorseErrorFrom(message: string, transactionId: string): EndorseError {
    const parsed = parseChaincodeError(message);
    if (parsed) {
        return new EndorseError({ code: parsed.code, field: parsed.field, message: `${parsed.field}: ${parsed.rule}`, transactionId });
    }
    // Argument checks done by fabric-contract-api itself, before any contract code runs.
    return new EndorseError({ code: 'INVALID_ARGUMENT', field: 'request', message, transactionId });
}
