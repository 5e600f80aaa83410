import type { Migration } from '../../postgres';

export const ledgerSchema: Migration = {
    id: 1,
    name: 'ledger',
    sql: `
CREATE TABLE ledger_blocks (
    number        bigint PRIMARY KEY,
    previous_hash bytea NOT NULL,
    data_hash     bytea NOT NULL,
    header_hash   bytea NOT NULL,
    -- canonical JSON of the block's transactions: exactly the bytes data_hash covers
    data          bytea NOT NULL,
    committed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_transactions (
    transaction_id  text PRIMARY KEY,
    block_number    bigint NOT NULL REFERENCES ledger_blocks (number),
    tx_index        integer NOT NULL,
    validation_code text NOT NULL
);

-- Keys are bytea: composite keys contain U+0000, and bytewise order is Fabric's key order.
CREATE TABLE world_state (
    namespace            text NOT NULL,
    key                  bytea NOT NULL,
    value                bytea NOT NULL,
    block_number         bigint NOT NULL,
    tx_index             integer NOT NULL,
    validation_parameter bytea,
    PRIMARY KEY (namespace, key)
);

CREATE TABLE key_history (
    namespace      text NOT NULL,
    key            bytea NOT NULL,
    block_number   bigint NOT NULL,
    tx_index       integer NOT NULL,
    transaction_id text NOT NULL,
    is_delete      boolean NOT NULL,
    value          bytea,
    timestamp      text NOT NULL,
    PRIMARY KEY (namespace, key, block_number, tx_index)
);

-- Private data values: never in a block; world_state holds their hashes.
CREATE TABLE private_state (
    namespace    text NOT NULL,
    collection   text NOT NULL,
    key          bytea NOT NULL,
    value        bytea NOT NULL,
    block_number bigint NOT NULL,
    tx_index     integer NOT NULL,
    PRIMARY KEY (namespace, collection, key)
);

-- The certificate authority of each organisation (the embedded stand-in for its MSP).
CREATE TABLE msp_authorities (
    msp_id      text PRIMARY KEY,
    certificate text NOT NULL,
    private_key text NOT NULL
);
`,
};
