import { type Request, type Response, Router } from 'express';
import { ChaincodeError, checkTimestamp, EARLIEST_TIME, LATEST_TIME, unstorableIn } from '@counterfoil/chaincode';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Principal } from '../auth/principal';
import { Problem } from '../http/problem';
import { SCHEMAS, type Schema } from './schemas';

export interface RouteContext {
    readonly principal: Principal;
    readonly params: Readonly<Record<string, string>>;
    readonly query: Readonly<Record<string, string>>;
    readonly body: unknown;
    readonly request: Request;
    readonly response: Response;
}

/** What a handler answers: a JSON body with a status, or `handled` when it wrote the response itself. */
export type Reply = { readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> } | { readonly handled: true };

export interface ResponseSpec {
    readonly description: string;
    readonly schema?: string | Schema;
    /** The media type of the body, or the types it may take (the request chooses, e.g. a format parameter). */
    readonly contentType?: string | readonly string[];
}

export interface RouteSpec {
    readonly method: 'get' | 'post' | 'put' | 'delete';
    /** OpenAPI path, e.g. `/v1/documents/{type}/{number}`. */
    readonly path: string;
    readonly summary: string;
    readonly tag: string;
    /** Routes without authentication: health, metrics, the API description. */
    readonly public?: boolean;
    readonly params?: Readonly<Record<string, Schema>>;
    readonly query?: Readonly<Record<string, Schema & { description?: string; required?: boolean }>>;
    /** Name of the request body's schema in SCHEMAS. */
    readonly body?: string;
    /**
     * A non-JSON request body (e.g. an uploaded PDF), passed to the handler as bytes; or, when
     * `stream`, left unread for the handler to read from the request (a large upload).
     */
    readonly rawBody?: { readonly contentType: string | readonly string[]; readonly description: string; readonly stream?: boolean };
    readonly responses: Readonly<Record<number, ResponseSpec>>;
    readonly handler: (context: RouteContext) => Promise<Reply>;
}

const PROBLEM_RESPONSES: Record<number, ResponseSpec> = {
    400: { description: 'Invalid argument', schema: 'Problem', contentType: 'application/problem+json' },
    401: { description: 'Not authenticated', schema: 'Problem', contentType: 'application/problem+json' },
    403: { description: 'Forbidden', schema: 'Problem', contentType: 'application/problem+json' },
    404: { description: 'Not found', schema: 'Problem', contentType: 'application/problem+json' },
    409: { description: 'Conflict with the current state (CONFLICT, FAILED_PRECONDITION, ABORTED)', schema: 'Problem', contentType: 'application/problem+json' },
    413: { description: 'Payload too large', schema: 'Problem', contentType: 'application/problem+json' },
    429: { description: 'Too many requests', schema: 'Problem', contentType: 'application/problem+json' },
    500: { description: 'Internal error', schema: 'Problem', contentType: 'application/problem+json' },
    503: { description: 'Unavailable', schema: 'Problem', contentType: 'application/problem+json' },
};

export function createValidator(): Ajv2020 {
    const ajv = new Ajv2020({ allErrors: false, strict: false });
    addFormats(ajv);
    // The instants the ledger and PostgreSQL can both hold, as the chaincode checks them.
    ajv.addFormat('date-time', (value: string) => timestampProblem(value, 'date-time') === undefined);
    ajv.addSchema({ $id: 'counterfoil', components: { schemas: SCHEMAS } });
    return ajv;
}

/** Turns ajv's first error into the API's field path (`permit.goods[0].hsCode`) and rule. */
export function describeError(error: ErrorObject, root: string): { field: string; rule: string } {
    const path = error.instancePath.split('/').slice(1).reduce((field, part) =>
        /^\d+$/.test(part) ? `${field}[${part}]` : field ? `${field}.${part}` : part, '');
    const join = (name: string): string => (path ? `${path}.${name}` : name);
    if (error.keyword === 'required') {
        return { field: join(String(error.params.missingProperty)), rule: 'is required' };
    }
    if (error.keyword === 'additionalProperties') {
        return { field: join(String(error.params.additionalProperty)), rule: 'is not a known field' };
    }
    if (error.keyword === 'format' && error.params.format === 'date-time') {
        return { field: path || root, rule: DATE_TIME_RULE };
    }
    return { field: path || root, rule: error.message ?? 'is not valid' };
}

const DATE_TIME_RULE = `must be an ISO 8601 date-time with a time zone, between ${EARLIEST_TIME} and ${LATEST_TIME}`;

/** The chaincode's rule for a timestamp, or undefined when `value` is one. */
function timestampProblem(value: string, field: string): string | undefined {
    try {
        checkTimestamp(value, field);
        return undefined;
    } catch (error) {
        if (error instanceof ChaincodeError) {
            return error.rule;
        }
        throw error;
    }
}

/**
 * Refuses, naming the field, any string (or member name) in a request that the ledger and
 * PostgreSQL cannot store: the chaincode refuses the same, and nothing it accepted may be
 * something the query tables cannot hold.
 */
export function refuseUnstorable(value: unknown, field: string): void {
    const found = unstorableIn(value, field === 'body' ? '' : field);
    if (found) {
        const named = found.field || field;
        throw new Problem('INVALID_ARGUMENT', `${named} ${found.rule}`, named);
    }
}

/**
 * The API as a list of routes: the express router and the OpenAPI document are both made from
 * it, so the description cannot drift from what is served. Bodies, path parameters and query
 * parameters are validated against the same schemas before a handler runs.
 */
export class Api {
    private readonly routes: RouteSpec[] = [];
    private readonly ajv = createValidator();
    private readonly bodyValidators = new Map<string, ValidateFunction>();

    add(...routes: RouteSpec[]): void {
        this.routes.push(...routes);
    }

    get all(): readonly RouteSpec[] {
        return this.routes;
    }

    router(authenticate: (request: Request) => Promise<Principal>, limit: (principal: Principal) => void): Router {
        const router = Router();
        for (const route of this.routes) {
            const expressPath = route.path.replace(/\{(\w+)\}/g, ':$1');
            router[route.method](expressPath, async (request: Request, response: Response) => {
                const principal = route.public ? ANONYMOUS : await authenticate(request);
                if (!route.public) {
                    limit(principal);
                }
                const params = this.checkParams(route, request.params as Record<string, string>);
                const query = this.checkQuery(route, request.query as Record<string, unknown>);
                const body = route.body ? this.checkBody(route.body, request) : route.rawBody ? this.checkRawBody(route.rawBody, request) : undefined;
                const reply = await route.handler({ principal, params, query, body, request, response });
                if ('handled' in reply) {
                    return;
                }
                for (const [name, value] of Object.entries(reply.headers ?? {})) {
                    response.setHeader(name, value);
                }
                response.status(reply.status).json(reply.body);
            });
        }
        return router;
    }

    private checkParams(route: RouteSpec, raw: Record<string, string>): Record<string, string> {
        for (const [name, schema] of Object.entries(route.params ?? {})) {
            const value = raw[name] ?? '';
            refuseUnstorable(value, name);
            if (!this.ajv.validate(schema, value)) {
                throw new Problem('INVALID_ARGUMENT', `path parameter ${name} ${this.ajv.errors?.[0]?.message ?? 'is not valid'}`, name);
            }
        }
        return raw;
    }

    private checkQuery(route: RouteSpec, raw: Record<string, unknown>): Record<string, string> {
        const query: Record<string, string> = {};
        const allowed = route.query ?? {};
        for (const [name, value] of Object.entries(raw)) {
            const schema = allowed[name];
            if (!schema) {
                throw new Problem('INVALID_ARGUMENT', `query parameter ${name} is not known here`, name);
            }
            if (typeof value !== 'string') {
                throw new Problem('INVALID_ARGUMENT', `query parameter ${name} must be given once, as a string`, name);
            }
            refuseUnstorable(value, name);
            const { description: _description, required: _required, ...bare } = schema;
            if (bare.format === 'date-time') {
                const rule = timestampProblem(value, name);
                if (rule) {
                    throw new Problem('INVALID_ARGUMENT', `query parameter ${name} ${rule}`, name);
                }
            }
            if (!this.ajv.validate(bare, value)) {
                throw new Problem('INVALID_ARGUMENT', `query parameter ${name} ${this.ajv.errors?.[0]?.message ?? 'is not valid'}`, name);
            }
            query[name] = bare.format === 'date-time' ? checkTimestamp(value, name) : value;
        }
        for (const [name, schema] of Object.entries(allowed)) {
            if (schema.required && query[name] === undefined) {
                throw new Problem('INVALID_ARGUMENT', `query parameter ${name} is required`, name);
            }
        }
        return query;
    }

    private checkBody(schemaName: string, request: Request): unknown {
        if (!request.is('application/json')) {
            throw new Problem('INVALID_ARGUMENT', 'the request body must be JSON (Content-Type: application/json)', 'body');
        }
        refuseUnstorable(request.body, 'body');
        let validate = this.bodyValidators.get(schemaName);
        if (!validate) {
            validate = this.ajv.compile({ $ref: `counterfoil#/components/schemas/${schemaName}` });
            this.bodyValidators.set(schemaName, validate);
        }
        if (!validate(request.body)) {
            const { field, rule } = describeError((validate.errors as ErrorObject[])[0] as ErrorObject, 'body');
            throw new Problem('INVALID_ARGUMENT', `${field} ${rule}`, field);
        }
        return request.body as unknown;
    }

    private checkRawBody(spec: NonNullable<RouteSpec['rawBody']>, request: Request): Buffer | undefined {
        const types = [spec.contentType].flat();
        if (!request.is(types) || (!spec.stream && (!Buffer.isBuffer(request.body) || request.body.length === 0))) {
            throw new Problem('INVALID_ARGUMENT', `the request body must be ${types.join(' or ')}`, 'body');
        }
        return spec.stream ? undefined : request.body as Buffer;
    }

    /** The methods a path has, for a 405 answer; empty when no route has the path. */
    methodsOf(path: string): string[] {
        return this.routes
            .filter((route) => new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path))
            .map((route) => route.method.toUpperCase());
    }

    /** The OpenAPI 3.1 document of every route. */
    document(info: Readonly<{ title: string; version: string; description: string }>): Record<string, unknown> {
        const paths: Record<string, Record<string, unknown>> = {};
        for (const route of this.routes) {
            const parameters = [
                ...Object.entries(route.params ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
                ...Object.entries(route.query ?? {}).map(([name, { description, required, ...schema }]) => ({ name, in: 'query', required: required ?? false, description, schema })),
            ];
            const responses = Object.fromEntries(Object.entries({ ...(route.public ? {} : PROBLEM_RESPONSES), ...route.responses }).map(([status, spec]) => [status, {
                description: spec.description,
                ...(spec.schema || spec.contentType ? {
                    content: Object.fromEntries([spec.contentType ?? 'application/json'].flat().map((type) => [type, {
                        schema: typeof spec.schema === 'string' ? { $ref: `#/components/schemas/${spec.schema}` } : spec.schema ?? {},
                    }])),
                } : {}),
            }]));
            (paths[route.path] ??= {})[route.method] = {
                operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[/.-](\w)/g, (_match, letter: string) => letter.toUpperCase())}`,
                summary: route.summary,
                tags: [route.tag],
                ...(route.public ? { security: [] } : {}),
                ...(parameters.length > 0 ? { parameters } : {}),
                ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.body}` } } } } } : {}),
                ...(route.rawBody ? {
                    requestBody: {
                        required: true, description: route.rawBody.description,
                        content: Object.fromEntries([route.rawBody.contentType].flat().map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
                    },
                } : {}),
                responses,
            };
        }
        return {
            openapi: '3.1.0',
            info,
            servers: [{ url: '/' }],
            security: [{ bearer: [] }],
            paths,
            components: {
                schemas: SCHEMAS,
                securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
            },
        };
    }
}

const ANONYMOUS: Principal = { subject: 'anonymous', org: 'none', role: 'operator' };
