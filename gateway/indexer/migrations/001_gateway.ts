import type { Migration } from '../../../network/postgres';

export const gatewaySchema: Migration = {
    id: 1,
    name: 'gateway',
    sql: `
CREATE TABLE gateway_identities (
    principal_key text PRIMARY KEY,
    msp_id        text NOT NULL,
    certificate   text NOT NULL,
    private_key   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Where the indexer is in the ledger: the last event it applied.
CREATE TABLE indexer_checkpoint (
    name           text PRIMARY KEY,
    block_number   bigint NOT NULL,
    transaction_id text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Every chaincode event, in ledger order: the source of server-sent events and webhooks.
CREATE TABLE ledger_events (
    sequence       bigserial PRIMARY KEY,
    block_number   bigint NOT NULL,
    transaction_id text NOT NULL UNIQUE,
    tx_index       integer NOT NULL,
    name           text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    payload        jsonb NOT NULL,
    -- parties who may see the event; '*agencies' stands for every agency
    audience       text[] NOT NULL
);
CREATE INDEX ledger_events_audience ON ledger_events USING gin (audience);

CREATE TABLE documents (
    type           text NOT NULL,
    number         text NOT NULL,
    version        integer NOT NULL,
    issuer         text NOT NULL,
    holder         text NOT NULL,
    status         text NOT NULL,
    valid_from     timestamptz NOT NULL,
    valid_to       timestamptz NOT NULL,
    record         jsonb NOT NULL,
    transaction_id text NOT NULL,
    block_number   bigint NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (type, number)
);
CREATE INDEX documents_holder ON documents (holder, type, number);
CREATE INDEX documents_issuer ON documents (issuer, type, number);

CREATE TABLE verifications (
    declaration_number text NOT NULL,
    permit_number      text NOT NULL,
    permit_type        text NOT NULL,
    holder             text NOT NULL,
    verdict            text NOT NULL,
    released           boolean NOT NULL,
    verified_at        timestamptz NOT NULL,
    record             jsonb NOT NULL,
    transaction_id     text NOT NULL,
    block_number       bigint NOT NULL,
    PRIMARY KEY (declaration_number, permit_number)
);
CREATE INDEX verifications_permit ON verifications (permit_type, permit_number);
CREATE INDEX verifications_holder ON verifications (holder, verified_at);

CREATE TABLE handoffs (
    sender                   text NOT NULL,
    message_id               text NOT NULL,
    recipient                text NOT NULL,
    subject                  text NOT NULL,
    document_type            text NOT NULL,
    document_number          text NOT NULL,
    status                   text NOT NULL,
    sent_at                  timestamptz NOT NULL,
    receipt_deadline         timestamptz NOT NULL,
    acknowledgement_deadline timestamptz NOT NULL,
    record                   jsonb NOT NULL,
    transaction_id           text NOT NULL,
    block_number             bigint NOT NULL,
    updated_at               timestamptz NOT NULL,
    PRIMARY KEY (sender, message_id)
);
CREATE INDEX handoffs_recipient ON handoffs (recipient, sent_at);
CREATE INDEX handoffs_subject ON handoffs (subject, sent_at);
CREATE INDEX handoffs_document ON handoffs (document_type, document_number);
CREATE INDEX handoffs_status ON handoffs (status, sent_at);
-- The overdue query: unconfirmed handoffs by the deadline they are waiting on.
CREATE INDEX handoffs_awaiting_receipt ON handoffs (receipt_deadline) WHERE status IN ('SENT', 'MISMATCH');
CREATE INDEX handoffs_awaiting_decision ON handoffs (acknowledgement_deadline) WHERE status = 'RECEIVED';

-- Each step of each handoff, with the transaction and block that recorded it: timelines and proofs.
CREATE TABLE handoff_steps (
    sender         text NOT NULL,
    message_id     text NOT NULL,
    transaction_id text NOT NULL PRIMARY KEY,
    block_number   bigint NOT NULL,
    name           text NOT NULL,
    status         text NOT NULL,
    occurred_at    timestamptz NOT NULL
);
CREATE INDEX handoff_steps_handoff ON handoff_steps (sender, message_id, block_number);

CREATE TABLE cases (
    case_id        text PRIMARY KEY,
    status         text NOT NULL,
    reason         text NOT NULL,
    parties        text[] NOT NULL,
    opened_at      timestamptz NOT NULL,
    record         jsonb NOT NULL,
    transaction_id text NOT NULL,
    block_number   bigint NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX cases_parties ON cases USING gin (parties);

CREATE TABLE case_messages (
    case_id        text NOT NULL,
    sequence       integer NOT NULL,
    record         jsonb NOT NULL,
    transaction_id text NOT NULL,
    block_number   bigint NOT NULL,
    PRIMARY KEY (case_id, sequence)
);

CREATE TABLE webhooks (
    id          text PRIMARY KEY,
    owner       text NOT NULL,
    party       text NOT NULL,
    sees_all    boolean NOT NULL,
    url         text NOT NULL,
    secret      text NOT NULL,
    events      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX webhooks_owner ON webhooks (owner) WHERE deleted_at IS NULL;

-- One delivery per webhook and event, created with the event (an outbox): none is ever lost.
CREATE TABLE webhook_deliveries (
    webhook_id      text NOT NULL REFERENCES webhooks (id),
    event_sequence  bigint NOT NULL REFERENCES ledger_events (sequence),
    status          text NOT NULL DEFAULT 'PENDING',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    PRIMARY KEY (webhook_id, event_sequence)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
`,
};
