export { createDatabase, dropDatabase, embeddedServerUrl, freePort, passwordFile, type EmbeddedPostgresOptions, type PostgresServer, startEmbeddedPostgres } from './server';
export { migrate, type Migration } from './migrate';
export { keysetPages } from './pages';
