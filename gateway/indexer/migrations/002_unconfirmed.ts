import type { Migration } from '../../../network/postgres';

/**
 * The unconfirmed-transfers query pages through unconfirmed handoffs oldest first: with them in
 * that order in an index, a page reads its own rows, not every unconfirmed handoff.
 */
export const unconfirmedIndex: Migration = {
    id: 2,
    name: 'unconfirmed handoffs by age',
    sql: `
CREATE INDEX handoffs_unconfirmed ON handoffs (sent_at, sender, message_id) WHERE status IN ('SENT', 'RECEIVED', 'MISMATCH', 'REJECTED');
`,
};
