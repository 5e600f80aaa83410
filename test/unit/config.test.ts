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
});
