import type { Migration } from '../../../network/postgres';

/**
 * The handoff list pages newest first: through an index in that order, its first page (with no
 * filter, or a filter most handoffs pass) reads its own rows, not the whole table. The overdue
 * list pages newest first too. Ordered by when each was sent, with the deadline it waits
 * on beside it in the key, an index lets the query pass over the handoffs not yet late without
 * reading them. The indexes by deadline alone stay: where few are late, the planner finds them
 * faster through those.
 */
export const newestFirstIndexes: Migration = {
    id: 3,
    name: 'handoffs newest first',
    sql: `
CREATE INDEX handoffs_newest ON handoffs (sent_at, sender, message_id);
CREATE INDEX handoffs_late_receipt ON handoffs (sent_at, sender, message_id, receipt_deadline) WHERE status IN ('SENT', 'MISMATCH');
CREATE INDEX handoffs_late_decision ON handoffs (sent_at, sender, message_id, acknowledgement_deadline) WHERE status = 'RECEIVED';
`,
};
