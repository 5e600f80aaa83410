import { resolve } from 'node:path';
import { parseRange } from './push/webhook-addresses';

export interface GatewayConfig {
    readonly port: number;
    readonly host: string;
    /** A PostgreSQL database to use; when absent the gateway starts embedded PostgreSQL. */
    readonly databaseUrl?: string;
    readonly dataDir: string;
    readonly postgresPort: number;
    readonly databaseName: string;
    readonly ledger: 'embedded' | 'network';
    /** How the hub reaches a CometBFT network (LEDGER=network), and how `network up` makes one. */
    readonly network: NetworkConfig;
    /** PKCS #8 PEM file of the hub's token-signing key (ES256), created on first use. */
    readonly tokenKeyFile: string;
    /** PKCS #8 PEM file of the key that signs PDF statements, created on first use. */
    readonly proofKeyFile: string;
    /** The key that seals private keys stored in PostgreSQL (certificate authorities', principals'), created on first use. */
    readonly keyEncryptionKeyFile: string;
    readonly bodyLimitBytes: number;
    /** Requests per principal per minute. */
    readonly rateLimitPerMinute: number;
    readonly logLevel: string;
    /** Cron expression of the reconciliation runs, or undefined when they run on demand only. */
    readonly reconciliationSchedule?: string;
    /** JSON file declaring the agency adapters, or undefined for none. */
    readonly adaptersFile?: string;
    /** Private CIDR ranges webhooks may reach (agency receivers); public addresses are always allowed. */
    readonly webhookAllowedRanges: readonly string[];
    /** Webhook subscriptions one principal may hold. */
    readonly webhooksPerPrincipal: number;
    /** The longest validity a bearer token may have, from issue to expiry. */
    readonly tokenMaxLifetimeSeconds: number;
    /** Tries in all of a transaction that lost a read conflict before ABORTED is answered. */
    readonly conflictAttempts: number;
    /** The SMTP server e-mail notifications go through (none sent without it), the From header, the digest window. */
    readonly smtpUrl?: string;
    readonly emailFrom: string;
    readonly emailDigestSeconds: number;
    /** Where readers reach the hub (links in mails); by default its own listening address. */
    readonly publicUrl?: string;
    /** The largest file an import takes, and the most rows it reads. */
    readonly importMaxBytes: number;
    readonly importMaxRows: number;
}

export interface NetworkConfig {
    /** The network's folder (`npm run network`): its layout and the organisations' authorities. */
    readonly dir: string;
    /** The node the hub works through (customs plays the E-Port's role). */
    readonly node: string;
    /**
     * Whom the hub acts for: its node's own organisation (`own`, an agency's gateway), or every
     * organisation of a network whose nodes all run on this machine (`every`: demonstrations and
     * tests, where one hub plays every agency and so holds every authority's key).
     */
    readonly actFor: 'own' | 'every';
    /** The node's CometBFT RPC; by default the one the network's layout names. */
    readonly rpcUrl?: string;
    /** The node's own database; by default the one the network's layout names. */
    readonly databaseUrl?: string;
    /** How long a submit waits for its block before answering UNAVAILABLE. */
    readonly commitTimeoutMs: number;
    /** How long a submit waits before broadcasting its transaction again. */
    readonly rebroadcastMs: number;
    /** How far a proposal's time may lie from its block's (written into genesis by `network up`). */
    readonly timestampToleranceMs: number;
    /** CometBFT's timeout_commit for a network `network up` makes. */
    readonly timeoutCommit: string;
}

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid configuration:\n  ${problems.join('\n  ')}`);
        this.name = 'ConfigError';
    }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the gateway's environment once, naming every missing or malformed variable at once. */
export function readGatewayConfig(environment: NodeJS.ProcessEnv): GatewayConfig {
    const problems: string[] = [];
    const integer = (name: string, fallback: number, min: number, max: number): number => {
        const raw = environment[name];
        const value = raw === undefined || raw === '' ? fallback : Number(raw);
        if (!Number.isInteger(value) || value < min || value > max) {
            problems.push(`${name} must be a whole number from ${min} to ${max}`);
        }
        return value;
    };
    const port = integer('PORT', 8080, 0, 65535);
    const postgresPort = integer('COUNTERFOIL_POSTGRES_PORT', 54329, 1024, 65535);
    const bodyLimitBytes = integer('COUNTERFOIL_BODY_LIMIT_BYTES', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024);
    const rateLimitPerMinute = integer('COUNTERFOIL_RATE_LIMIT_PER_MINUTE', 6000, 1, 1_000_000);
    const databaseUrl = environment.DATABASE_URL?.trim() || undefined;
    if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
        problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    const databaseName = environment.COUNTERFOIL_DATABASE ?? 'counterfoil';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseName)) {
        problems.push('COUNTERFOIL_DATABASE must be lowercase letters, digits and _');
    }
    const ledger = environment.LEDGER ?? 'embedded';
    if (ledger !== 'embedded' && ledger !== 'network') {
        problems.push(ledger === 'fabric'
            ? 'LEDGER=fabric is not available in this build: the Fabric network cannot be built here (see the README)'
            : 'LEDGER must be embedded or network');
    }
    const commitTimeoutSeconds = integer('COUNTERFOIL_NETWORK_COMMIT_TIMEOUT_SECONDS', 60, 1, 3600);
    const rebroadcastSeconds = integer('COUNTERFOIL_NETWORK_REBROADCAST_SECONDS', 5, 1, 600);
    const toleranceSeconds = integer('COUNTERFOIL_NETWORK_TIME_TOLERANCE_SECONDS', 30, 1, 3600);
    const url = (name: string, schemes: RegExp, rule: string): string | undefined => {
        const value = environment[name]?.trim() || undefined;
        if (value !== undefined && !schemes.test(value)) {
            problems.push(`${name} must be ${rule}`);
        }
        return value;
    };
    const networkRpcUrl = url('COUNTERFOIL_NETWORK_RPC_URL', /^https?:\/\/[^/\s]+\/?$/, 'an http:// or https:// address of a CometBFT RPC (e.g. http://127.0.0.1:26657)');
    const networkDatabaseUrl = url('COUNTERFOIL_NETWORK_NODE_DATABASE_URL', /^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL');
    const networkNode = environment.COUNTERFOIL_NETWORK_NODE ?? 'customs';
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(networkNode)) {
        problems.push('COUNTERFOIL_NETWORK_NODE must be a node name such as customs');
    }
    const actFor = environment.COUNTERFOIL_NETWORK_ACT_FOR ?? 'own';
    if (actFor !== 'own' && actFor !== 'every') {
        problems.push('COUNTERFOIL_NETWORK_ACT_FOR must be own (the node\'s own organisation) or every (every organisation of a network on this machine)');
    }
    const timeoutCommit = environment.COUNTERFOIL_NETWORK_TIMEOUT_COMMIT ?? '100ms';
    if (!/^\d{1,5}(ms|s)$/.test(timeoutCommit)) {
        problems.push('COUNTERFOIL_NETWORK_TIMEOUT_COMMIT must be a duration such as 250ms or 1s');
    }
    const logLevel = environment.LOG_LEVEL ?? 'info';
    if (!LOG_LEVELS.includes(logLevel)) {
        problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
    }
    const schedule = environment.COUNTERFOIL_RECONCILIATION_SCHEDULE ?? '* * * * *';
    if (schedule !== 'off' && !/^(\S+\s+){4,5}\S+$/.test(schedule.trim())) {
        problems.push('COUNTERFOIL_RECONCILIATION_SCHEDULE must be a cron expression (e.g. "*/5 * * * *") or off');
    }
    const webhooksPerPrincipal = integer('COUNTERFOIL_WEBHOOKS_PER_PRINCIPAL', 20, 1, 10_000);
    const tokenMaxHours = integer('COUNTERFOIL_TOKEN_MAX_HOURS', 720, 1, 24 * 366);
    const conflictAttempts = integer('COUNTERFOIL_CONFLICT_ATTEMPTS', 12, 1, 100);
    const smtpUrl = url('SMTP_URL', /^smtps?:\/\/[^\s]+$/, 'an smtp:// or smtps:// URL (smtp://user:password@host:587)');
    const publicUrl = url('COUNTERFOIL_PUBLIC_URL', /^https?:\/\/[^/\s]+\/?$/, 'the http:// or https:// address readers reach the hub at (e.g. https://counterfoil.example.gov.cn)');
    const emailDigestSeconds = integer('COUNTERFOIL_EMAIL_DIGEST_SECONDS', 60, 0, 86_400);
    const emailFrom = environment.COUNTERFOIL_EMAIL_FROM?.trim() || 'Counterfoil <counterfoil@localhost>';
    const importMaxBytes = integer('COUNTERFOIL_IMPORT_MAX_BYTES', 50 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
    const importMaxRows = integer('COUNTERFOIL_IMPORT_MAX_ROWS', 200_000, 1, 10_000_000);
    const webhookAllowedRanges = (environment.COUNTERFOIL_WEBHOOK_ALLOWED_RANGES ?? '').split(',').map((range) => range.trim()).filter((range) => range !== '');
    for (const range of webhookAllowedRanges.filter((candidate) => !parseRange(candidate))) {
        problems.push(`COUNTERFOIL_WEBHOOK_ALLOWED_RANGES must be comma-separated CIDR ranges (e.g. 10.20.0.0/16,fd12::/48); ${range} is not one`);
    }
    const dataDir = resolve(environment.COUNTERFOIL_DATA_DIR ?? '.data');
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return {
        port, host: environment.HOST ?? '127.0.0.1', databaseUrl, dataDir, postgresPort, databaseName, ledger: ledger as GatewayConfig['ledger'],
        network: {
            dir: resolve(environment.COUNTERFOIL_NETWORK_DIR ?? '.network'), node: networkNode, actFor: actFor as NetworkConfig['actFor'], rpcUrl: networkRpcUrl, databaseUrl: networkDatabaseUrl,
            commitTimeoutMs: commitTimeoutSeconds * 1000, rebroadcastMs: rebroadcastSeconds * 1000, timestampToleranceMs: toleranceSeconds * 1000, timeoutCommit,
        },
        tokenKeyFile: resolve(environment.COUNTERFOIL_TOKEN_KEY_FILE ?? resolve(dataDir, 'token-signing-key.pem')),
        proofKeyFile: resolve(environment.COUNTERFOIL_PROOF_KEY_FILE ?? resolve(dataDir, 'proof-signing-key.pem')),
        keyEncryptionKeyFile: resolve(environment.COUNTERFOIL_KEY_ENCRYPTION_KEY_FILE ?? resolve(dataDir, 'key-encryption-key')),
        bodyLimitBytes, rateLimitPerMinute, logLevel, reconciliationSchedule: schedule === 'off' ? undefined : schedule.trim(),
        adaptersFile: environment.COUNTERFOIL_ADAPTERS_FILE ? resolve(environment.COUNTERFOIL_ADAPTERS_FILE) : undefined,
        webhookAllowedRanges, webhooksPerPrincipal, tokenMaxLifetimeSeconds: tokenMaxHours * 3600, conflictAttempts, importMaxBytes, importMaxRows, smtpUrl, emailFrom, emailDigestSeconds, publicUrl,
    };
}
