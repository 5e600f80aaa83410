import type { Migration } from '../../network/postgres';

export const reconciliationSchema: Migration = {
    id: 1,
    name: 'reconciliation',
    sql: `
-- The case reconciliation opened for each discrepancy (one per handoff and class), and when it closed.
CREATE TABLE reconciliation_cases (
    case_id    text PRIMARY KEY,
    class      text NOT NULL,
    sender     text NOT NULL,
    message_id text NOT NULL,
    opened_at  timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz,
    resolution text,
    UNIQUE (sender, message_id, class)
);
CREATE INDEX reconciliation_cases_open ON reconciliation_cases (sender, message_id) WHERE closed_at IS NULL;

CREATE TABLE reconciliation_runs (
    id          bigserial PRIMARY KEY,
    trigger     text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    examined    integer NOT NULL,
    opened      integer NOT NULL,
    closed      integer NOT NULL,
    failures    integer NOT NULL,
    error       text
);
`,
};

export const offLedgerCounts: Migration = {
    id: 2,
    name: 'off-ledger-counts',
    sql: `
-- Overdue discrepancies a run found with no handoff on the ledger (never recorded, recipient only).
ALTER TABLE reconciliation_runs ADD COLUMN off_ledger integer NOT NULL DEFAULT 0;
`,
};
