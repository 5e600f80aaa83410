import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { Problem } from '../http/problem';
import { loadOrCreateKey } from './key-file';
import { type Principal, principalProblem } from './principal';

export const TOKEN_ISSUER = 'counterfoil-hub';
export const TOKEN_AUDIENCE = 'counterfoil';

/** Tokens whose signature was checked, kept at most: a client sends the same token with every request. */
const VERIFIED_TOKENS = 10_000;
const CLOCK_TOLERANCE_SECONDS = 5;
/** The longest a token may be valid, from its issue to its expiry, unless configured otherwise. */
export const DEFAULT_TOKEN_MAX_LIFETIME_SECONDS = 30 * 24 * 3600;

/** Bearer tokens signed by the hub's ES256 key. */
export class TokenService {
    /** Tokens already verified, with their principal and validity: the signature is checked once per token. */
    private readonly verified = new Map<string, { principal: Principal; notBefore: number; expires: number }>();

    private constructor(
        private readonly privateKey: KeyObject, private readonly publicKey: KeyObject, private readonly clock: () => number, readonly maxLifetimeSeconds: number,
    ) {}

    /**
     * Loads the signing key from its file, creating it on first use (never overwriting one).
     * `clock`: milliseconds now; `maxLifetimeSeconds`: the longest validity a token may claim.
     */
    static async open(keyFile: string, clock: () => number = Date.now, maxLifetimeSeconds = DEFAULT_TOKEN_MAX_LIFETIME_SECONDS): Promise<TokenService> {
        const privateKey = await loadOrCreateKey(keyFile);
        return new TokenService(privateKey, createPublicKey(privateKey), clock, maxLifetimeSeconds);
    }

    async issue(principal: Principal, options: Readonly<{ expiresInSeconds?: number; audience?: string; notBefore?: number }> = {}): Promise<string> {
        const now = Math.floor(this.clock() / 1000);
        if ((options.expiresInSeconds ?? 0) > this.maxLifetimeSeconds) {
            throw new Error(`a token may be valid for at most ${this.maxLifetimeSeconds} seconds (COUNTERFOIL_TOKEN_MAX_HOURS)`);
        }
        return new SignJWT({ org: principal.org, role: principal.role, ...(principal.uscc ? { uscc: principal.uscc } : {}) })
            .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
            .setIssuer(TOKEN_ISSUER)
            .setAudience(options.audience ?? TOKEN_AUDIENCE)
            .setSubject(principal.subject)
            .setIssuedAt(now)
            .setNotBefore(options.notBefore ?? now - 5)
            .setExpirationTime(now + (options.expiresInSeconds ?? 8 * 3600))
            .sign(this.privateKey);
    }

    async verify(token: string): Promise<Principal> {
        const now = this.clock() / 1000;
        const known = this.verified.get(token);
        if (known && now >= known.notBefore - CLOCK_TOLERANCE_SECONDS && now <= known.expires + CLOCK_TOLERANCE_SECONDS) {
            return known.principal;
        }
        // Not seen, or outside its validity now: checked in full, which names what is wrong.
        let payload: Record<string, unknown>;
        try {
            ({ payload } = await jwtVerify(token, this.publicKey, {
                issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: ['ES256'], clockTolerance: CLOCK_TOLERANCE_SECONDS,
                currentDate: new Date(this.clock()), requiredClaims: ['exp', 'iat'], maxTokenAge: this.maxLifetimeSeconds,
            }));
        } catch (error) {
            throw new Problem('UNAUTHENTICATED', describe(error), 'authorization');
        }
        // A token valid for longer than the hub allows is refused, even while it is young.
        if ((payload.exp as number) - (payload.iat as number) > this.maxLifetimeSeconds) {
            throw new Problem('UNAUTHENTICATED', `the token claims a validity of more than ${this.maxLifetimeSeconds} seconds, the longest this hub accepts`, 'authorization');
        }
        const problem = principalProblem(payload);
        if (problem) {
            throw new Problem('UNAUTHENTICATED', problem, 'authorization');
        }
        const principal: Principal = {
            subject: payload.sub as string, org: payload.org as string, role: payload.role as Principal['role'],
            ...(typeof payload.uscc === 'string' ? { uscc: payload.uscc } : {}),
        };
        if (this.verified.size >= VERIFIED_TOKENS) {
            this.verified.clear();
        }
        this.verified.set(token, { principal, notBefore: typeof payload.nbf === 'number' ? payload.nbf : -Infinity, expires: payload.exp as number });
        return principal;
    }
}

function describe(error: unknown): string {
    if (error instanceof joseErrors.JWTExpired) {
        return 'the token has expired';
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
        return error.reason === 'missing' ? `the token has no ${error.claim} claim; every token must say when it expires (exp) and when it was issued (iat)` : `the token's ${error.claim} claim is not accepted here`;
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
        return 'the token was not signed by this hub';
    }
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
        return 'the token must be signed with ES256';
    }
    return 'the bearer token is malformed';
}
