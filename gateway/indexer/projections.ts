import type { CaseMessage, CaseRecord, DocumentRecord, Handoff, VerificationRecord } from '@counterfoil/chaincode';
import type { PoolClient } from 'pg';
import type { LedgerEvent } from '../ledger';

/** Applies one event to the query tables; replaying an event already applied changes nothing. */
export async function project(client: PoolClient, event: LedgerEvent, payload: unknown): Promise<void> {
    const block = event.blockNumber.toString();
    if (event.name.startsWith('Document')) {
        await projectDocument(client, event, payload as DocumentRecord);
        return;
    }
    if (event.name.startsWith('Permit') || event.name === 'VerificationReleased') {
        const { permitDocument: _permit, ...record } = payload as VerificationRecord & { permitDocument?: DocumentRecord };
        await client.query(
            `INSERT INTO verifications (declaration_number, permit_number, permit_type, holder, verdict, released, verified_at, record, transaction_id, block_number)
             VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::boolean, $7::timestamptz, $8::jsonb, $9::text, $10::bigint)
             ON CONFLICT (declaration_number, permit_number) DO UPDATE SET released = EXCLUDED.released, record = EXCLUDED.record,
                transaction_id = EXCLUDED.transaction_id, block_number = EXCLUDED.block_number
             WHERE verifications.block_number <= EXCLUDED.block_number`,
            [record.declarationNumber, record.permit.number, record.permit.type, record.holder, record.verdict, record.release !== undefined,
                record.verifiedAt, JSON.stringify(record), event.transactionId, block]);
        const permit = (payload as { permitDocument?: DocumentRecord }).permitDocument;
        if (permit) {
            await projectDocument(client, event, permit);
        }
        return;
    }
    if (event.name.startsWith('Handoff')) {
        const record = payload as Handoff;
        await client.query(
            `INSERT INTO handoffs (sender, message_id, recipient, subject, document_type, document_number, status, sent_at, receipt_deadline,
                acknowledgement_deadline, record, transaction_id, block_number, updated_at)
             VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::timestamptz, $9::timestamptz, $10::timestamptz,
                $11::jsonb, $12::text, $13::bigint, $14::timestamptz)
             ON CONFLICT (sender, message_id) DO UPDATE SET status = EXCLUDED.status, receipt_deadline = EXCLUDED.receipt_deadline,
                acknowledgement_deadline = EXCLUDED.acknowledgement_deadline, record = EXCLUDED.record, transaction_id = EXCLUDED.transaction_id,
                block_number = EXCLUDED.block_number, updated_at = EXCLUDED.updated_at
             WHERE handoffs.block_number <= EXCLUDED.block_number`,
            [record.sender, record.messageId, record.recipient, record.subject, record.document.type, record.document.number, record.status,
                record.sentAt, record.receiptDeadline, record.acknowledgementDeadline, JSON.stringify(record), event.transactionId, block, event.timestamp]);
        await client.query(
            `INSERT INTO handoff_steps (sender, message_id, transaction_id, block_number, name, status, occurred_at)
             VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::text, $6::text, $7::timestamptz) ON CONFLICT (transaction_id) DO NOTHING`,
            [record.sender, record.messageId, event.transactionId, block, event.name, record.status, event.timestamp]);
        return;
    }
    if (event.name === 'CaseMessageAdded') {
        const message = payload as CaseMessage;
        await client.query(
            `INSERT INTO case_messages (case_id, sequence, record, transaction_id, block_number) VALUES ($1::text, $2::integer, $3::jsonb, $4::text, $5::bigint)
             ON CONFLICT (case_id, sequence) DO NOTHING`,
            [message.caseId, message.sequence, JSON.stringify(message), event.transactionId, block]);
        return;
    }
    if (event.name.startsWith('Case')) {
        const record = payload as CaseRecord;
        await client.query(
            `INSERT INTO cases (case_id, status, reason, parties, opened_at, record, transaction_id, block_number, updated_at)
             VALUES ($1::text, $2::text, $3::text, $4::text[], $5::timestamptz, $6::jsonb, $7::text, $8::bigint, $9::timestamptz)
             ON CONFLICT (case_id) DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record, transaction_id = EXCLUDED.transaction_id,
                block_number = EXCLUDED.block_number, updated_at = EXCLUDED.updated_at
             WHERE cases.block_number <= EXCLUDED.block_number`,
            [record.caseId, record.status, record.reason, record.parties, record.openedAt, JSON.stringify(record), event.transactionId, block, record.updatedAt]);
    }
}

async function projectDocument(client: PoolClient, event: LedgerEvent, record: DocumentRecord): Promise<void> {
    await client.query(
        `INSERT INTO documents (type, number, version, issuer, holder, status, valid_from, valid_to, record, transaction_id, block_number, updated_at)
         VALUES ($1::text, $2::text, $3::integer, $4::text, $5::text, $6::text, $7::timestamptz, $8::timestamptz, $9::jsonb, $10::text, $11::bigint, $12::timestamptz)
         ON CONFLICT (type, number) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status, valid_from = EXCLUDED.valid_from,
            valid_to = EXCLUDED.valid_to, record = EXCLUDED.record, transaction_id = EXCLUDED.transaction_id,
            block_number = EXCLUDED.block_number, updated_at = EXCLUDED.updated_at
         WHERE documents.block_number <= EXCLUDED.block_number`,
        [record.type, record.number, record.version, record.issuer, record.holder, record.status, record.validFrom, record.validTo,
            JSON.stringify(record), event.transactionId, event.blockNumber.toString(), record.updatedAt]);
}
