import type { Migration } from '../../postgres';

/**
 * Confidential content on a network node. `private_pending` holds content a submitting party
 * sent ahead of its transaction, until a committed block shows its hash (then it moves to
 * `private_state`) or it is purged unclaimed; `private_missing` names the private data a block
 * wrote in a collection this node's organisation belongs to but whose content it does not hold
 * yet (it was down when the content was sent): the node fetches it from another member.
 */
export const privateDataSchema: Migration = {
    id: 3,
    name: 'private data',
    sql: `
CREATE TABLE private_pending (
    transaction_id text NOT NULL,
    sha256         bytea NOT NULL,
    content        bytea NOT NULL,
    sender         text NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (transaction_id, sha256)
);
CREATE INDEX private_pending_received ON private_pending (received_at);

CREATE TABLE private_missing (
    namespace    text NOT NULL,
    collection   text NOT NULL,
    key          bytea NOT NULL,
    sha256       bytea NOT NULL,
    block_number bigint NOT NULL,
    tx_index     integer NOT NULL,
    PRIMARY KEY (namespace, collection, key)
);
`,
};
