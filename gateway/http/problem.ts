import type { NextFunction, Request, Response } from 'express';
import { CommitError, LedgerError } from '../../network/ledger';

/** Stable codes of the API: the chaincode's, plus the gateway's own. */
export type ProblemCode =
    | 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'FORBIDDEN' | 'CONFLICT' | 'FAILED_PRECONDITION'
    | 'UNAUTHENTICATED' | 'PAYLOAD_TOO_LARGE' | 'RATE_LIMITED' | 'UNAVAILABLE' | 'ABORTED' | 'METHOD_NOT_ALLOWED' | 'INTERNAL';

const STATUS: Readonly<Record<ProblemCode, number>> = {
    INVALID_ARGUMENT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409,
    // A failed precondition is a conflict with the resource's current state (RFC 9110 §15.5.10).
    FAILED_PRECONDITION: 409, PAYLOAD_TOO_LARGE: 413, RATE_LIMITED: 429, ABORTED: 409, UNAVAILABLE: 503, METHOD_NOT_ALLOWED: 405, INTERNAL: 500,
};

const TITLE: Readonly<Record<ProblemCode, string>> = {
    INVALID_ARGUMENT: 'Invalid argument', UNAUTHENTICATED: 'Not authenticated', FORBIDDEN: 'Forbidden', NOT_FOUND: 'Not found',
    CONFLICT: 'Conflict', FAILED_PRECONDITION: 'Failed precondition', PAYLOAD_TOO_LARGE: 'Payload too large',
    RATE_LIMITED: 'Too many requests', ABORTED: 'Aborted by a concurrent change', UNAVAILABLE: 'Unavailable', METHOD_NOT_ALLOWED: 'Method not allowed', INTERNAL: 'Internal error',
};

/** An RFC 9457 problem, thrown anywhere in a request and answered by `problemResponder`. */
export class Problem extends Error {
    constructor(
        readonly code: ProblemCode,
        readonly detail: string,
        readonly field?: string,
        readonly extra: Readonly<Record<string, unknown>> = {},
    ) {
        super(detail);
        this.name = 'Problem';
    }

    get status(): number {
        return STATUS[this.code];
    }
}

export function problemFromError(error: unknown): Problem {
    if (error instanceof Problem) {
        return error;
    }
    if (error instanceof CommitError) {
        return new Problem('ABORTED', `${error.message}; the request may be retried`, undefined, { validationCode: error.validationCode, transactionId: error.transactionId });
    }
    if (error instanceof LedgerError) {
        return new Problem(error.code, error.message, error.field, error.transactionId ? { transactionId: error.transactionId } : {});
    }
    const status = (error as { status?: number; type?: string }).status;
    const type = (error as { type?: string }).type;
    // body-parser's own errors carry a status and a type.
    if (type === 'entity.too.large') {
        return new Problem('PAYLOAD_TOO_LARGE', 'the request body is larger than the gateway accepts', 'body');
    }
    if (type === 'entity.parse.failed') {
        return new Problem('INVALID_ARGUMENT', 'the request body is not well-formed JSON', 'body');
    }
    if (type === 'encoding.malformed') {
        return new Problem('INVALID_ARGUMENT', 'the request body is not valid UTF-8', 'body');
    }
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
        return new Problem('INVALID_ARGUMENT', 'the request body must be UTF-8 JSON', 'body');
    }
    if (status !== undefined && status >= 400 && status < 500) {
        return new Problem('INVALID_ARGUMENT', (error as Error).message, 'body');
    }
    return new Problem('INTERNAL', 'the gateway failed to handle the request');
}

export function sendProblem(response: Response, request: Request, problem: Problem): void {
    const body = {
        type: `https://counterfoil.example/problems/${problem.code.toLowerCase().replace(/_/g, '-')}`,
        title: TITLE[problem.code],
        status: problem.status,
        detail: problem.detail,
        code: problem.code,
        ...(problem.field ? { field: problem.field } : {}),
        instance: request.originalUrl,
        requestId: response.locals.requestId as string | undefined,
        ...problem.extra,
    };
    if (problem.code === 'RATE_LIMITED' && typeof problem.extra.retryAfterSeconds === 'number') {
        response.setHeader('Retry-After', String(problem.extra.retryAfterSeconds));
    }
    if (problem.code === 'METHOD_NOT_ALLOWED' && typeof problem.extra.allow === 'string') {
        response.setHeader('Allow', problem.extra.allow);
    }
    if (problem.code === 'UNAUTHENTICATED') {
        response.setHeader('WWW-Authenticate', 'Bearer realm="counterfoil"');
    }
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
}

/** The express error handler: every error leaves as a problem document. */
export function problemResponder(log: (problem: Problem, error: unknown) => void) {
    return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
        const problem = problemFromError(error);
        log(problem, error);
        if (response.headersSent) {
            response.end();
            return;
        }
        sendProblem(response, request, problem);
    };
}
