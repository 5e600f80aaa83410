export { createDatabase, dropDatabase, embeddedPostgresRunning, embeddedServerUrl, freePort, processAlive, stopEmbeddedPostgres, passwordFile, type EmbeddedPostgresOptions, type PostgresServer, startEmbeddedPostgres } from './server';
export { migrate, type Migration } from './migrate';
export { keysetPages } from './pages';
export { Statement } from './statement';
export { inTransaction } from './transaction';
