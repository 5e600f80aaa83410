import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Principal } from './auth/principal';
import { Problem, problemResponder } from './http/problem';
import { RateLimiter } from './http/rate-limit';
import { GatewayMetrics } from './metrics';
import { overviewRoutes } from './routes/overview';
import { type ConsolePersona, mountConsole } from './console/serve';
import { Api } from './openapi/api';
import { caseRoutes } from './routes/cases';
import { documentRoutes } from './routes/documents';
import { exportRoutes } from './routes/exports';
import { handoffRoutes } from './routes/handoffs';
import { systemRoutes } from './routes/system';
import { favouriteRoutes } from './routes/favourites';
import { foreignRoutes } from './routes/foreign';
import { threadRoutes } from './routes/threads';
import { traceRoutes } from './routes/trace';
import { verificationRoutes } from './routes/verifications';
import type { Services } from './services';

export type AppOptions = Readonly<{
    services: Services;
    logger: Logger;
    bodyLimitBytes: number;
    rateLimitPerMinute: number;
    /** Extra routes (server-sent events, webhooks, proofs) mounted with the same rules, and their metrics. */
    extraRoutes?: (api: Api, metrics: GatewayMetrics) => void;
    /** Personas the console offers to sign in as (while simulated agencies run). */
    consolePersonas?: () => Promise<ConsolePersona[]>;
}>;

/**
 * body-parser decodes a JSON body leniently, turning bytes that are not UTF-8 into U+FFFD: the
 * ledger would then record text the client never sent.
 */
function refuseMalformedUtf8(_request: Request, _response: Response, body: Buffer): void {
    if (!isUtf8(body)) {
        throw Object.assign(new Error('the request body is not valid UTF-8'), { type: 'encoding.malformed' });
    }
}

/** The express application: every route from the API list, behind one error and logging policy. */
export function createApp(options: AppOptions): { app: Express; api: Api; metrics: GatewayMetrics } {
    const { services, logger } = options;
    const metrics = new GatewayMetrics();
    const api = new Api();
    const info = { title: 'Counterfoil', version: '0.1.0', description: 'Inter-agency document verification and reconciliation hub for cross-border trade' };
    api.add(
        ...systemRoutes(services, metrics, () => api.document(info)),
        ...documentRoutes(services), ...verificationRoutes(services), ...handoffRoutes(services), ...caseRoutes(services), ...traceRoutes(services), ...overviewRoutes(services), ...exportRoutes(services), ...threadRoutes(services), ...favouriteRoutes(services), ...foreignRoutes(services),
    );
    options.extraRoutes?.(api, metrics);
    const limiter = new RateLimiter(options.rateLimitPerMinute);

    const app = express();
    app.disable('x-powered-by');
    app.set('query parser', 'simple');
    app.use((request: Request, response: Response, next: NextFunction) => {
        const offered = request.get('x-request-id');
        const requestId = offered && /^[A-Za-z0-9._-]{1,64}$/.test(offered) ? offered : randomUUID();
        response.locals.requestId = requestId;
        response.setHeader('X-Request-Id', requestId);
        const started = process.hrtime.bigint();
        response.on('finish', () => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
            metrics.requests.inc({ method: request.method, route, status: String(response.statusCode) });
            metrics.duration.observe({ method: request.method, route }, seconds);
            logger.info({ requestId, method: request.method, url: request.originalUrl, status: response.statusCode, ms: Math.round(seconds * 1000), principal: response.locals.principal as string | undefined }, 'request');
        });
        next();
    });
    app.use(express.json({ limit: options.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'], verify: refuseMalformedUtf8 }));
    app.use(express.raw({ limit: options.bodyLimitBytes, type: ['application/pdf', 'application/xml', 'text/xml'] }));
    const authenticate = async (request: Request): Promise<Principal> => {
        const header = request.get('authorization');
        // The scheme is case-insensitive (RFC 9110, section 11.1).
        const match = header ? /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(header) : null;
        if (!match) {
            throw new Problem('UNAUTHENTICATED', 'send Authorization: Bearer <token>', 'authorization');
        }
        const principal = await services.tokens.verify(match[1] as string);
        // A gateway acts only for the organisations whose certificate authorities its party holds:
        // on the network, its own agency's (and, at customs, the enterprises').
        const organisations = services.ledger.enrolment.organisations;
        if (!organisations.includes(principal.org)) {
            throw new Problem('FORBIDDEN', `this gateway acts for ${organisations.join(', ')} only: a principal of ${principal.org} uses its own organisation's gateway`, 'org');
        }
        return principal;
    };
    mountConsole(app, options.consolePersonas);
    app.use(api.router(async (request) => {
        const principal = await authenticate(request);
        (request.res as Response).locals.principal = `${principal.subject}@${principal.org}`;
        return principal;
    }, (principal) => limiter.take(principal)));
    app.use((request: Request, _response: Response, next: NextFunction) => {
        const methods = api.methodsOf(request.path);
        next(methods.length > 0
            ? new Problem('METHOD_NOT_ALLOWED', `${request.path} takes ${methods.join(', ')}, not ${request.method}`, 'method', { allow: methods.join(', ') })
            : new Problem('NOT_FOUND', `no route ${request.method} ${request.path}`, 'path'));
    });
    app.use(problemResponder((problem, error) => {
        if (problem.status >= 500) {
            logger.error({ err: error, code: problem.code }, 'request failed');
        }
    }));
    return { app, api, metrics };
}
