export { createDatabase, dropDatabase, type EmbeddedPostgresOptions, type PostgresServer, startEmbeddedPostgres } from './server';
export { migrate, type Migration } from './migrate';
