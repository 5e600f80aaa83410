import type { Migration } from '../../../network/postgres';

/**
 * Document threads as the ledger has them (who wrote each message and its digests), and what the
 * parties keep off the ledger: each message's text and attachments' names, the attachments' bytes,
 * and how far each reader has read each thread.
 */
export const threads: Migration = {
    id: 6,
    name: 'threads',
    sql: `
CREATE TABLE document_messages (
    type           text NOT NULL,
    number         text NOT NULL,
    sequence       integer NOT NULL,
    parties        text[] NOT NULL,
    record         jsonb NOT NULL,
    transaction_id text NOT NULL,
    block_number   bigint NOT NULL,
    PRIMARY KEY (type, number, sequence)
);

-- A message as its parties wrote it, found by the digest the ledger holds.
CREATE TABLE message_bodies (
    message_hash text PRIMARY KEY,
    body         text NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now()
);

-- Attachments by their digest; who uploaded each, for only an uploader may attach a file.
CREATE TABLE attachments (
    sha256      text PRIMARY KEY,
    media_type  text NOT NULL,
    size        integer NOT NULL,
    bytes       bytea NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE attachment_uploads (
    sha256      text NOT NULL REFERENCES attachments (sha256),
    uploader    text NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sha256, uploader)
);

-- Read through which message, per thread and reader (a principal).
CREATE TABLE thread_reads (
    thread       text NOT NULL,
    reader       text NOT NULL,
    read_through integer NOT NULL,
    PRIMARY KEY (thread, reader)
);
`,
};
