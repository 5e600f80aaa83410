export { createDatabase, dropDatabase, freePort, type EmbeddedPostgresOptions, type PostgresServer, startEmbeddedPostgres } from './server';
export { migrate, type Migration } from './migrate';
export { keysetPages } from './pages';
