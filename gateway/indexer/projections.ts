import {
    AGENCIES, type AuthorityRecord, type CaseMessage, type CaseRecord, type DocumentRecord, type ForeignCertificateRecord, type Handoff, type ThreadMessage, type VerificationRecord,
} from '@counterfoil/chaincode';
import type { Pool } from 'pg';
import type { Statement } from '../../network/postgres/statement';
import type { LedgerEvent } from '../../network/ledger';
import { ALL_AGENCIES, audienceOf } from './audience';

/** Rows for one table: at most one per key, the latest event's, since one statement may change a row only once. */
class Rows {
    private readonly rows = new Map<string, readonly unknown[]>();

    set(key: readonly unknown[], values: readonly unknown[]): void {
        this.rows.set(JSON.stringify(key), values);
    }

    get size(): number {
        return this.rows.size;
    }

    /** The rows as one array per column, for unnest. */
    columns(count: number): unknown[][] {
        const columns = Array.from({ length: count }, () => [] as unknown[]);
        for (const values of this.rows.values()) {
            values.forEach((value, index) => columns[index]?.push(value));
        }
        return columns;
    }
}

/**
 * What a run of events adds to the query tables, gathered so that each table takes it in one
 * statement. Applying events already applied changes nothing: each upsert keeps the row of the
 * later block, and events, steps and case messages are inserted once.
 */
export class ProjectionBatch {
    private readonly documents = new Rows();
    private readonly verifications = new Rows();
    private readonly handoffs = new Rows();
    private readonly steps = new Rows();
    private readonly cases = new Rows();
    private readonly caseMessages = new Rows();
    private readonly documentMessages = new Rows();
    private readonly authorities = new Rows();
    private readonly foreignCertificates = new Rows();
    private readonly events: { event: LedgerEvent; payload: unknown; audience: string[] }[] = [];

    get size(): number {
        return this.events.length;
    }

    add(event: LedgerEvent): void {
        const payload = JSON.parse(Buffer.from(event.payload).toString('utf8')) as unknown;
        this.events.push({ event, payload, audience: audienceOf(event.name, payload) });
        const block = event.blockNumber.toString();
        if (event.name.startsWith('Document')) {
            this.document(event, payload as DocumentRecord);
        } else if (event.name.startsWith('Permit') || event.name === 'VerificationReleased') {
            const { permitDocument, ...record } = payload as VerificationRecord & { permitDocument?: DocumentRecord };
            this.verifications.set([record.declarationNumber, record.permit.number], [
                record.declarationNumber, record.permit.number, record.permit.type, record.holder, record.verdict, record.release !== undefined,
                record.verifiedAt, JSON.stringify(record), event.transactionId, block,
            ]);
            if (permitDocument) {
                this.document(event, permitDocument);
            }
        } else if (event.name.startsWith('Handoff')) {
            const record = payload as Handoff;
            this.handoffs.set([record.sender, record.messageId], [
                record.sender, record.messageId, record.recipient, record.subject, record.document.type, record.document.number, record.status,
                record.sentAt, record.receiptDeadline ?? null, record.acknowledgementDeadline ?? null, JSON.stringify(record), event.transactionId, block, event.timestamp,
            ]);
            this.steps.set([event.transactionId], [record.sender, record.messageId, event.transactionId, block, event.name, record.status, event.timestamp]);
        } else if (event.name === 'ThreadMessageAdded') {
            const message = payload as ThreadMessage;
            this.documentMessages.set([message.type, message.number, message.sequence], [
                message.type, message.number, message.sequence, JSON.stringify(message.parties), JSON.stringify(message), event.transactionId, block,
            ]);
        } else if (event.name === 'CaseMessageAdded') {
            const { caseRecord, ...message } = payload as CaseMessage & { caseRecord?: CaseRecord };
            this.caseMessages.set([message.caseId, message.sequence], [message.caseId, message.sequence, JSON.stringify(message), event.transactionId, block]);
            if (caseRecord) {
                this.caseRecord(event, caseRecord);
            }
        } else if (event.name.startsWith('Case')) {
            this.caseRecord(event, payload as CaseRecord);
        } else if (event.name === 'AuthorityChanged') {
            const record = payload as AuthorityRecord;
            this.authorities.set([record.authorityId], [record.authorityId, record.contact, JSON.stringify(record), event.transactionId, block]);
        } else if (event.name === 'ForeignCertificateReceived') {
            const { caseRecord, ...record } = payload as ForeignCertificateRecord & { caseRecord?: CaseRecord };
            this.foreignCertificates.set([record.authorityId, record.number, record.documentHash], [
                record.authorityId, record.number, record.documentHash, record.holder, record.verdict, record.receivedAt, JSON.stringify(record), event.transactionId, block,
            ]);
            if (caseRecord) {
                this.caseRecord(event, caseRecord);
            }
        }
    }

    private caseRecord(event: LedgerEvent, record: CaseRecord): void {
        this.cases.set([record.caseId], [
            record.caseId, record.status, record.reason, JSON.stringify(record.parties), record.openedAt, JSON.stringify(record), event.transactionId,
            event.blockNumber.toString(), record.updatedAt,
        ]);
    }

    /**
     * Reads what the batch needs to know beforehand: the parties of the cases whose messages it
     * holds, as each case stands once this batch is in (its own record of the case if it has one).
     */
    async prepare(pool: Pick<Pool, 'query'>): Promise<void> {
        const messages = this.events.filter((entry) => entry.event.name === 'CaseMessageAdded');
        if (messages.length === 0) {
            return;
        }
        const batchParties = new Map<string, string[]>();
        for (const entry of this.events) {
            if (entry.event.name.startsWith('Case') && entry.event.name !== 'CaseMessageAdded') {
                const record = entry.payload as CaseRecord;
                batchParties.set(record.caseId, record.parties);
            } else if ((entry.event.name === 'CaseMessageAdded' || entry.event.name === 'ForeignCertificateReceived') && (entry.payload as { caseRecord?: CaseRecord }).caseRecord) {
                const record = (entry.payload as { caseRecord: CaseRecord }).caseRecord;
                batchParties.set(record.caseId, record.parties);
            }
        }
        const unknown = [...new Set(messages.map((entry) => (entry.payload as CaseMessage).caseId))].filter((id) => !batchParties.has(id));
        if (unknown.length > 0) {
            const result = await pool.query<{ case_id: string; parties: string[] }>('SELECT case_id, parties FROM cases WHERE case_id = ANY ($1::text[])', [unknown]);
            for (const row of result.rows) {
                batchParties.set(row.case_id, row.parties);
            }
        }
        for (const entry of messages) {
            entry.audience = batchParties.get((entry.payload as CaseMessage).caseId) ?? [];
        }
    }

    /** Adds everything gathered to one statement (after `prepare`): each table's rows in one part. */
    write(statement: Statement): void {
        if (this.documents.size > 0) {
            statement.part(
                `INSERT INTO documents (type, number, version, issuer, holder, status, valid_from, valid_to, record, transaction_id, block_number, updated_at)
                 SELECT * FROM ${statement.unnest(this.documents.columns(12), ['text', 'text', 'integer', 'text', 'text', 'text', 'timestamptz', 'timestamptz', 'jsonb', 'text', 'bigint', 'timestamptz'])}
                 ON CONFLICT (type, number) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status, valid_from = EXCLUDED.valid_from,
                    valid_to = EXCLUDED.valid_to, record = EXCLUDED.record, transaction_id = EXCLUDED.transaction_id,
                    block_number = EXCLUDED.block_number, updated_at = EXCLUDED.updated_at
                 WHERE documents.block_number <= EXCLUDED.block_number`);
        }
        if (this.verifications.size > 0) {
            statement.part(
                `INSERT INTO verifications (declaration_number, permit_number, permit_type, holder, verdict, released, verified_at, record, transaction_id, block_number)
                 SELECT * FROM ${statement.unnest(this.verifications.columns(10), ['text', 'text', 'text', 'text', 'text', 'boolean', 'timestamptz', 'jsonb', 'text', 'bigint'])}
                 ON CONFLICT (declaration_number, permit_number) DO UPDATE SET released = EXCLUDED.released, record = EXCLUDED.record,
                    transaction_id = EXCLUDED.transaction_id, block_number = EXCLUDED.block_number
                 WHERE verifications.block_number <= EXCLUDED.block_number`);
        }
        if (this.handoffs.size > 0) {
            statement.part(
                `INSERT INTO handoffs (sender, message_id, recipient, subject, document_type, document_number, status, sent_at, receipt_deadline,
                    acknowledgement_deadline, record, transaction_id, block_number, updated_at)
                 SELECT * FROM ${statement.unnest(this.handoffs.columns(14), ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'timestamptz', 'timestamptz', 'jsonb', 'text', 'bigint', 'timestamptz'])}
                 ON CONFLICT (sender, message_id) DO UPDATE SET status = EXCLUDED.status, receipt_deadline = EXCLUDED.receipt_deadline,
                    acknowledgement_deadline = EXCLUDED.acknowledgement_deadline, record = EXCLUDED.record, transaction_id = EXCLUDED.transaction_id,
                    block_number = EXCLUDED.block_number, updated_at = EXCLUDED.updated_at
                 WHERE handoffs.block_number <= EXCLUDED.block_number`);
            statement.part(
                `INSERT INTO handoff_steps (sender, message_id, transaction_id, block_number, name, status, occurred_at)
                 SELECT * FROM ${statement.unnest(this.steps.columns(7), ['text', 'text', 'text', 'bigint', 'text', 'text', 'timestamptz'])}
                 ON CONFLICT (transaction_id) DO NOTHING`);
        }
        if (this.cases.size > 0) {
            statement.part(
                `INSERT INTO cases (case_id, status, reason, parties, opened_at, record, transaction_id, block_number, updated_at)
                 SELECT case_id, status, reason, ARRAY(SELECT jsonb_array_elements_text(parties)), opened_at, record, transaction_id, block_number, updated_at
                   FROM ${statement.unnest(this.cases.columns(9), ['text', 'text', 'text', 'jsonb', 'timestamptz', 'jsonb', 'text', 'bigint', 'timestamptz'])}
                     AS c (case_id, status, reason, parties, opened_at, record, transaction_id, block_number, updated_at)
                 ON CONFLICT (case_id) DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record, transaction_id = EXCLUDED.transaction_id,
                    block_number = EXCLUDED.block_number, updated_at = EXCLUDED.updated_at
                 WHERE cases.block_number <= EXCLUDED.block_number`);
        }
        if (this.caseMessages.size > 0) {
            statement.part(
                `INSERT INTO case_messages (case_id, sequence, record, transaction_id, block_number)
                 SELECT * FROM ${statement.unnest(this.caseMessages.columns(5), ['text', 'integer', 'jsonb', 'text', 'bigint'])}
                 ON CONFLICT (case_id, sequence) DO NOTHING`);
        }
        if (this.documentMessages.size > 0) {
            statement.part(
                `INSERT INTO document_messages (type, number, sequence, parties, record, transaction_id, block_number)
                 SELECT type, number, sequence, ARRAY(SELECT jsonb_array_elements_text(parties)), record, transaction_id, block_number
                   FROM ${statement.unnest(this.documentMessages.columns(7), ['text', 'text', 'integer', 'jsonb', 'jsonb', 'text', 'bigint'])}
                     AS m (type, number, sequence, parties, record, transaction_id, block_number)
                 ON CONFLICT (type, number, sequence) DO NOTHING`);
        }
        if (this.authorities.size > 0) {
            statement.part(
                `INSERT INTO foreign_authorities (authority_id, contact, record, transaction_id, block_number)
                 SELECT * FROM ${statement.unnest(this.authorities.columns(5), ['text', 'text', 'jsonb', 'text', 'bigint'])}
                 ON CONFLICT (authority_id) DO UPDATE SET contact = EXCLUDED.contact, record = EXCLUDED.record, transaction_id = EXCLUDED.transaction_id,
                    block_number = EXCLUDED.block_number
                 WHERE foreign_authorities.block_number <= EXCLUDED.block_number`);
        }
        if (this.foreignCertificates.size > 0) {
            statement.part(
                `INSERT INTO foreign_certificates (authority_id, number, document_hash, holder, verdict, received_at, record, transaction_id, block_number)
                 SELECT * FROM ${statement.unnest(this.foreignCertificates.columns(9), ['text', 'text', 'text', 'text', 'text', 'timestamptz', 'jsonb', 'text', 'bigint'])}
                 ON CONFLICT (authority_id, number, document_hash) DO NOTHING`);
        }
        this.writeEvents(statement);
    }

    /**
     * The events in ledger order, each with the parties who may see it, and a webhook delivery for
     * each subscription that may see a newly inserted one.
     */
    private writeEvents(statement: Statement): void {
        if (this.events.length === 0) {
            return;
        }
        const { events } = this;
        const inserted = statement.part(
            `INSERT INTO ledger_events (block_number, transaction_id, tx_index, name, occurred_at, payload, audience)
             SELECT block_number, transaction_id, tx_index, name, occurred_at, payload, ARRAY(SELECT jsonb_array_elements_text(audience))
               FROM ${statement.unnest([
                events.map((entry) => entry.event.blockNumber.toString()), events.map((entry) => entry.event.transactionId), events.map((entry) => entry.event.transactionIndex),
                events.map((entry) => entry.event.name), events.map((entry) => entry.event.timestamp), events.map((entry) => JSON.stringify(entry.payload)),
                events.map((entry) => JSON.stringify(entry.audience)),
            ], ['bigint', 'text', 'integer', 'text', 'timestamptz', 'jsonb', 'jsonb'])} WITH ORDINALITY
                 AS e (block_number, transaction_id, tx_index, name, occurred_at, payload, audience, position)
              ORDER BY position
             ON CONFLICT (transaction_id) DO NOTHING
             RETURNING sequence, name, audience`);
        statement.part(
            `INSERT INTO webhook_deliveries (webhook_id, event_sequence)
             SELECT w.id, i.sequence FROM ${inserted} i JOIN webhooks w
                 ON w.deleted_at IS NULL AND (i.name = ANY (w.events) OR '*' = ANY (w.events))
                AND (w.sees_all OR w.party = ANY (i.audience) OR (${statement.value(ALL_AGENCIES, 'text')} = ANY (i.audience) AND w.party = ANY (${statement.value(AGENCIES, 'text[]')})))
              ORDER BY i.sequence, w.id`);
    }

    private document(event: LedgerEvent, record: DocumentRecord): void {
        this.documents.set([record.type, record.number], [
            record.type, record.number, record.version, record.issuer, record.holder, record.status, record.validFrom, record.validTo,
            JSON.stringify(record), event.transactionId, event.blockNumber.toString(), record.updatedAt,
        ]);
    }
}
