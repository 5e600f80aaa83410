/**
 * Errors leave the chaincode as text, because that is all Fabric carries back to a client.
 * The text has one fixed shape, `CODE: field: rule`, so that clients recover the code and the
 * field with one parse (see `parseChaincodeError`) rather than by guessing at prose.
 */
export const ERROR_CODES = [
    'INVALID_ARGUMENT',
    'NOT_FOUND',
    'FORBIDDEN',
    'CONFLICT',
    'FAILED_PRECONDITION',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class ChaincodeError extends Error {
    readonly code: ErrorCode;
    readonly field: string;
    readonly rule: string;

    constructor(code: ErrorCode, field: string, rule: string) {
        super(`${code}: ${field}: ${rule}`);
        this.name = 'ChaincodeError';
        this.code = code;
        this.field = field;
        this.rule = rule;
    }
}

export function invalidArgument(field: string, rule: string): ChaincodeError {
    return new ChaincodeError('INVALID_ARGUMENT', field, rule);
}

export function notFound(field: string, rule: string): ChaincodeError {
    return new ChaincodeError('NOT_FOUND', field, rule);
}

export function forbidden(field: string, rule: string): ChaincodeError {
    return new ChaincodeError('FORBIDDEN', field, rule);
}

export function conflict(field: string, rule: string): ChaincodeError {
    return new ChaincodeError('CONFLICT', field, rule);
}

export function failedPrecondition(field: string, rule: string): ChaincodeError {
    return new ChaincodeError('FAILED_PRECONDITION', field, rule);
}

export interface ParsedChaincodeError {
    readonly code: ErrorCode;
    readonly field: string;
    readonly rule: string;
}

const ERROR_PATTERN = /^(INVALID_ARGUMENT|NOT_FOUND|FORBIDDEN|CONFLICT|FAILED_PRECONDITION): ([^:]+): ([\s\S]+)$/;

/** Recovers a chaincode error from its message, or undefined if the message is not one. */
export function parseChaincodeError(message: string): ParsedChaincodeError | undefined {
    const match = ERROR_PATTERN.exec(message.trim());
    if (!match) {
        return undefined;
    }
    return { code: match[1] as ErrorCode, field: match[2] as string, rule: match[3] as string };
}
