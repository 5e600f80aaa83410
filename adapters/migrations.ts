import type { Migration } from '../network/postgres';

export const adapterSchema: Migration = {
    id: 1,
    name: 'adapters',
    sql: `
-- Where each adapter is in each of its agency's feeds; advanced only after the ledger took the batch.
CREATE TABLE adapter_cursors (
    adapter    text NOT NULL,
    feed       text NOT NULL,
    cursor     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (adapter, feed)
);

-- Relay mode: payloads the hub holds between the sender's adapter and the recipient's.
CREATE TABLE relay_payloads (
    sender          text NOT NULL,
    message_id      text NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    document_type   text NOT NULL,
    document_number text NOT NULL,
    payload         bytea NOT NULL,
    payload_hash    text NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now(),
    -- how many retransmissions the last delivery answered (-1: never delivered)
    delivered_attempt integer NOT NULL DEFAULT -1,
    delivery_attempts integer NOT NULL DEFAULT 0,
    last_error        text,
    PRIMARY KEY (sender, message_id)
);
CREATE INDEX relay_payloads_pending ON relay_payloads (recipient, stored_at);

-- Records an adapter could not use, with the reason; the rest of their batch went on.
CREATE TABLE adapter_quarantine (
    id          bigserial PRIMARY KEY,
    adapter     text NOT NULL,
    feed        text NOT NULL,
    record      jsonb NOT NULL,
    reason      text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX adapter_quarantine_adapter ON adapter_quarantine (adapter, quarantined_at);
`,
};

export const agencyRecordsSchema: Migration = {
    id: 2,
    name: 'agency-records',
    sql: `
-- Which agency each quarantined record came from.
ALTER TABLE adapter_quarantine ADD COLUMN organisation text;

-- Records that name a handoff or document the ledger does not have yet: a recipient's receipt
-- read before the sender's adapter recorded the send, a handoff of a document another agency has
-- not yet issued on the ledger. Tried again each run; the ones still waiting after a grace period
-- are discrepancies (recorded by the recipient only, or sent but never recorded).
CREATE TABLE adapter_parked (
    id           bigserial PRIMARY KEY,
    adapter      text NOT NULL,
    organisation text NOT NULL,
    feed         text NOT NULL,
    sender       text NOT NULL,
    message_id   text NOT NULL,
    recipient    text,
    subject      text,
    record       jsonb NOT NULL,
    reason       text NOT NULL,
    parked_at    timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 1
);
CREATE INDEX adapter_parked_adapter ON adapter_parked (adapter, id);
CREATE INDEX adapter_parked_message ON adapter_parked (sender, message_id);
`,
};

export const adapterHealthSchema: Migration = {
    id: 3,
    name: 'adapter-health',
    sql: `
-- Each adapter's health, wherever it runs (in the hub's process or beside it): written after each
-- run, so the hub's API and metrics show adapters in every process, across restarts.
CREATE TABLE adapter_health (
    adapter              text PRIMARY KEY,
    organisation         text NOT NULL,
    mode                 text NOT NULL,
    last_attempt_at      timestamptz,
    last_success_at      timestamptz,
    last_error           text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    errors               bigint NOT NULL DEFAULT 0
);
`,
};

export const deliveryExhaustionSchema: Migration = {
    id: 4,
    name: 'delivery-exhaustion',
    sql: `
-- The last attempt (retransmission count) for which the recipient's adapter tried every delivery
-- it may, in vain (-1: none): only then does the sender retransmit a handoff past its deadline.
ALTER TABLE relay_payloads ADD COLUMN exhausted_attempt integer NOT NULL DEFAULT -1;
`,
};

export const waitingFilesSchema: Migration = {
    id: 5,
    name: 'waiting-files',
    sql: `
-- Files an agency dropped that its adapter had not read when its last run ended (file-drop only).
ALTER TABLE adapter_health ADD COLUMN waiting integer;
`,
};
