/**
 * `npm run adapters`: the agency adapters in a process of their own, beside a running hub. They
 * reach the ledger through the gateway's REST API and share the hub's PostgreSQL (relay mailbox,
 * cursors, the indexed handoffs).
 *
 *   DATABASE_URL                 the hub's database
 *   COUNTERFOIL_GATEWAY_URL      the gateway, e.g. http://127.0.0.1:8080
 *   COUNTERFOIL_ADAPTERS_FILE    the adapters (see adapters/adapters.example.json)
 *   COUNTERFOIL_TOKEN_KEY_FILE   the hub's token key, to sign each adapter's own tokens
 */
import './chaincode-log-level';
import { Pool } from 'pg';
import pino from 'pino';
import { AdapterConfigError, AdapterHost, adapterPrincipal, httpLedgerClient, readAdapterConfig } from '../adapters';
import { TokenService } from '../gateway/auth/tokens';

const TOKEN_LIFETIME_SECONDS = 3600;

async function main(): Promise<void> {
    const problems = ['DATABASE_URL', 'COUNTERFOIL_GATEWAY_URL', 'COUNTERFOIL_ADAPTERS_FILE', 'COUNTERFOIL_TOKEN_KEY_FILE']
        .filter((name) => !process.env[name]).map((name) => `${name} is required`);
    if (problems.length > 0) {
        console.error(`invalid configuration:\n  ${problems.join('\n  ')}`);
        process.exit(1);
    }
    const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
    let configs;
    try {
        configs = await readAdapterConfig(process.env.COUNTERFOIL_ADAPTERS_FILE as string);
    } catch (error) {
        console.error(error instanceof AdapterConfigError ? error.message : error);
        process.exit(1);
    }
    const tokens = await TokenService.open(process.env.COUNTERFOIL_TOKEN_KEY_FILE as string);
    const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
    pool.on('error', (error) => logger.warn({ err: error }, 'database connection lost'));
    const gateway = (process.env.COUNTERFOIL_GATEWAY_URL as string).replace(/\/+$/, '');
    const host = await AdapterHost.create({
        configs, pool, logger,
        ledgerFor: (config) => {
            // Each adapter signs its own short-lived token, renewed well before it expires.
            let current: { token: string; until: number } | undefined;
            return httpLedgerClient(gateway, async () => {
                if (!current || Date.now() > current.until) {
                    current = {
                        token: await tokens.issue(adapterPrincipal(config), { expiresInSeconds: TOKEN_LIFETIME_SECONDS }),
                        until: Date.now() + (TOKEN_LIFETIME_SECONDS / 2) * 1000,
                    };
                }
                return current.token;
            });
        },
    });
    host.start();
    logger.info({ adapters: configs.map((config) => config.name), gateway }, 'adapters running');
    let stopping = false;
    const stop = async (): Promise<void> => {
        if (stopping) {
            return;
        }
        stopping = true;
        await host.stop();
        await pool.end();
        process.exit(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
