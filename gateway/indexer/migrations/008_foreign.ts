import type { Migration } from '../../../network/postgres';

/** The registry of foreign issuing authorities, and the signed certificates received from them, as the ledger has them. */
export const foreign: Migration = {
    id: 8,
    name: 'foreign authorities and certificates',
    sql: `
CREATE TABLE foreign_authorities (
    authority_id   text PRIMARY KEY,
    contact        text NOT NULL,
    record         jsonb NOT NULL,
    transaction_id text NOT NULL,
    block_number   bigint NOT NULL
);
CREATE TABLE foreign_certificates (
    authority_id   text NOT NULL,
    number         text NOT NULL,
    document_hash  text NOT NULL,
    holder         text NOT NULL,
    verdict        text NOT NULL,
    received_at    timestamptz NOT NULL,
    record         jsonb NOT NULL,
    transaction_id text NOT NULL,
    block_number   bigint NOT NULL,
    PRIMARY KEY (authority_id, number, document_hash)
);
CREATE INDEX foreign_certificates_received ON foreign_certificates (received_at DESC, authority_id, number, document_hash);
CREATE INDEX foreign_certificates_holder ON foreign_certificates (holder, received_at DESC);
`,
};
