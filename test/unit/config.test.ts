import { expect } from 'chai';
import { ConfigError, readConfig } from '../../scripts/config';

describe('hub configuration', () => {
    it('defaults to an embedded PostgreSQL in .data', () => {
        const config = readConfig({});
        expect(config.databaseUrl).to.equal(undefined);
        expect(config.dataDir).to.match(/\.data$/);
        expect(config.postgresPort).to.equal(54329);
    });

    it('names every malformed variable at once', () => {
        let caught: unknown;
        try {
            readConfig({ DATABASE_URL: 'mysql://x', COUNTERFOIL_POSTGRES_PORT: '80', COUNTERFOIL_DATABASE: 'Bad-Name' });
        } catch (error) {
            caught = error;
        }
        expect(caught).to.be.instanceOf(ConfigError);
        expect((caught as ConfigError).problems.map((problem) => problem.split(' ')[0])).to.deep.equal(['DATABASE_URL', 'COUNTERFOIL_POSTGRES_PORT', 'COUNTERFOIL_DATABASE']);
    });
});
