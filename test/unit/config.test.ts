import { expect } from 'chai';
import { ConfigError, readGatewayConfig } from '../../gateway/config';

describe('gateway configuration', () => {
    it('defaults to port 8080 on loopback, an embedded PostgreSQL in .data and the embedded ledger', () => {
        const config = readGatewayConfig({});
        expect(config).to.include({ port: 8080, host: '127.0.0.1', postgresPort: 54329, ledger: 'embedded', databaseName: 'counterfoil' });
        expect(config.databaseUrl).to.equal(undefined);
        expect(config.dataDir).to.match(/\.data$/);
        expect(config.tokenKeyFile).to.match(/\.data\/token-signing-key\.pem$/);
    });

    it('names every malformed variable at once', () => {
        let caught: unknown;
        try {
            readGatewayConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', COUNTERFOIL_POSTGRES_PORT: '80', COUNTERFOIL_DATABASE: 'Bad-Name', LOG_LEVEL: 'loud', LEDGER: 'fabric' });
        } catch (error) {
            caught = error;
        }
        expect(caught).to.be.instanceOf(ConfigError);
        expect((caught as ConfigError).problems.map((problem) => problem.split(' ')[0])).to.deep.equal(
            ['PORT', 'COUNTERFOIL_POSTGRES_PORT', 'DATABASE_URL', 'COUNTERFOIL_DATABASE', 'LEDGER=fabric', 'LOG_LEVEL']);
    });

    it('reads the hub\'s limits, with their defaults, and names the ones out of bounds', () => {
        expect(readGatewayConfig({})).to.include({ tokenMaxLifetimeSeconds: 720 * 3600, webhooksPerPrincipal: 20, conflictAttempts: 12 });
        expect(readGatewayConfig({}).webhookAllowedRanges).to.deep.equal([]);
        expect(readGatewayConfig({}).keyEncryptionKeyFile).to.match(/\.data\/key-encryption-key$/);
        const limited = readGatewayConfig({ COUNTERFOIL_WEBHOOK_ALLOWED_RANGES: '10.20.0.0/16, fd12::/48', COUNTERFOIL_CONFLICT_ATTEMPTS: '3' });
        expect(limited.webhookAllowedRanges).to.deep.equal(['10.20.0.0/16', 'fd12::/48']);
        expect(limited.conflictAttempts).to.equal(3);
        let caught: unknown;
        try {
            readGatewayConfig({ COUNTERFOIL_TOKEN_MAX_HOURS: '0', COUNTERFOIL_WEBHOOKS_PER_PRINCIPAL: 'many', COUNTERFOIL_CONFLICT_ATTEMPTS: '0', COUNTERFOIL_WEBHOOK_ALLOWED_RANGES: '10.0.0.0' });
        } catch (error) {
            caught = error;
        }
        expect((caught as ConfigError).problems.map((problem) => problem.split(' ')[0])).to.deep.equal(
            ['COUNTERFOIL_WEBHOOKS_PER_PRINCIPAL', 'COUNTERFOIL_TOKEN_MAX_HOURS', 'COUNTERFOIL_CONFLICT_ATTEMPTS', 'COUNTERFOIL_WEBHOOK_ALLOWED_RANGES']);
    });

    it('makes a network hub its node\'s agency\'s gateway unless told to act for every agency', () => {
        expect(readGatewayConfig({ LEDGER: 'network' }).network).to.include({ node: 'customs', actFor: 'own' });
        expect(readGatewayConfig({ LEDGER: 'network', COUNTERFOIL_NETWORK_NODE: 'tax', COUNTERFOIL_NETWORK_ACT_FOR: 'every' }).network).to.include({ node: 'tax', actFor: 'every' });
        expect(() => readGatewayConfig({ LEDGER: 'network', COUNTERFOIL_NETWORK_ACT_FOR: 'all' })).to.throw(ConfigError, /COUNTERFOIL_NETWORK_ACT_FOR must be own/);
    });
});
