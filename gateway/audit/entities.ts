import {
    balanceOf, canonicalJson, type CaseMessage, type CaseRecord, combineHandoff, type Confirmation, type Dispatch, type DocumentRecord, type Handoff,
    OBJECT_TYPES, type ThreadMessage, type VerificationRecord, versionKeyPart,
} from '@counterfoil/chaincode';
import type { Pool } from 'pg';
import type { KeyChange, ReplayResult } from '../../network/audit';
import { splitStateId, stateId } from '../../network/storage';
import { createCompositeKey, splitCompositeKey } from '../../network/execution/composite-keys';
import { keysetPages } from '../../network/postgres';

/** The entities an auditor asks about, and how each is named. */
export type EntityRef =
    | { readonly kind: 'document'; readonly type: string; readonly number: string }
    | { readonly kind: 'handoff'; readonly sender: string; readonly messageId: string }
    | { readonly kind: 'case'; readonly caseId: string }
    | { readonly kind: 'verification'; readonly declarationNumber: string; readonly permitNumber: string };

/** A replayed world state read as Counterfoil's records (one namespace). */
export class ReplayedState {
    constructor(private readonly replay: Pick<ReplayResult, 'state'>, readonly namespace: string) {}

    value<T>(objectType: string, attributes: readonly string[]): T | undefined {
        const entry = this.replay.state.get(stateId(this.namespace, createCompositeKey(objectType, attributes)));
        return entry ? JSON.parse(Buffer.from(entry.value, 'base64').toString('utf8')) as T : undefined;
    }

    /** Every record of one object type, with its key's attributes. */
    *all<T>(objectType: string): Generator<{ attributes: string[]; record: T }> {
        const prefix = stateId(this.namespace, createCompositeKey(objectType, []));
        for (const [id, entry] of this.replay.state) {
            if (id.startsWith(prefix)) {
                const { attributes } = splitCompositeKey(id.slice(this.namespace.length + 1));
                yield { attributes, record: JSON.parse(Buffer.from(entry.value, 'base64').toString('utf8')) as T };
            }
        }
    }

    /** The key attributes of every record of one object type, without reading the records. */
    *keys(objectType: string): Generator<string[]> {
        const prefix = stateId(this.namespace, createCompositeKey(objectType, []));
        for (const id of this.replay.state.keys()) {
            if (id.startsWith(prefix)) {
                yield splitCompositeKey(id.slice(this.namespace.length + 1)).attributes;
            }
        }
    }

    document(type: string, number: string): DocumentRecord | undefined {
        const head = this.value<{ version: number }>(OBJECT_TYPES.documentHead, [type, number]);
        return head ? this.value<DocumentRecord>(OBJECT_TYPES.document, [type, number, versionKeyPart(head.version)]) : undefined;
    }

    handoff(sender: string, messageId: string): Handoff | undefined {
        const dispatch = this.value<Dispatch>(OBJECT_TYPES.handoff, [sender, messageId]);
        return dispatch ? combineHandoff(dispatch, this.value<Confirmation>(OBJECT_TYPES.confirmation, [sender, messageId])) : undefined;
    }

    caseRecord(caseId: string): CaseRecord | undefined {
        return this.value<CaseRecord>(OBJECT_TYPES.case, [caseId]);
    }

    verification(declarationNumber: string, permitNumber: string): VerificationRecord | undefined {
        return this.value<VerificationRecord>(OBJECT_TYPES.verification, [declarationNumber, permitNumber]);
    }

    /** The entity as the replayed state has it, with a permit's balance and a case's messages. */
    entity(ref: EntityRef): Record<string, unknown> | undefined {
        switch (ref.kind) {
            case 'document': {
                const record = this.document(ref.type, ref.number);
                return record && { record, ...(record.permit ? balanceOf(record.permit) : {}) };
            }
            case 'handoff': {
                const record = this.handoff(ref.sender, ref.messageId);
                return record && { record };
            }
            case 'case': {
                const record = this.caseRecord(ref.caseId);
                const messages = [...this.all<CaseMessage>(OBJECT_TYPES.caseMessage)].filter((entry) => entry.attributes[0] === ref.caseId).map((entry) => entry.record);
                return record && { record, messages };
            }
            case 'verification': {
                const record = this.verification(ref.declarationNumber, ref.permitNumber);
                return record && { record };
            }
        }
    }
}

/** Whether a state key belongs to the entity (for its history). */
export function keyOfEntity(ref: EntityRef): (key: string) => boolean {
    return (key) => {
        const { objectType, attributes } = splitCompositeKey(key);
        switch (ref.kind) {
            case 'document':
                return (objectType === OBJECT_TYPES.document || objectType === OBJECT_TYPES.documentHead) && attributes[0] === ref.type && attributes[1] === ref.number;
            case 'handoff':
                return (objectType === OBJECT_TYPES.handoff || objectType === OBJECT_TYPES.confirmation) && attributes[0] === ref.sender && attributes[1] === ref.messageId;
            case 'case':
                return (objectType === OBJECT_TYPES.case || objectType === OBJECT_TYPES.caseMessage) && attributes[0] === ref.caseId;
            case 'verification':
                return objectType === OBJECT_TYPES.verification && attributes[0] === ref.declarationNumber && attributes[1] === ref.permitNumber;
        }
    };
}

/** One transaction that changed an entity: who, when, which call, and what each of its keys became. */
export type EntityChange = Omit<KeyChange, 'isDelete' | 'value'> & {
    readonly writes: readonly { readonly key: string[]; readonly isDelete: boolean; readonly value?: string }[];
};

/** An entity's changes, oldest first, one per transaction. */
export function historyOf(replay: Pick<ReplayResult, 'changes'>): EntityChange[] {
    const byTransaction = new Map<string, Omit<KeyChange, 'isDelete' | 'value'> & { writes: EntityChange['writes'][number][] }>();
    for (const [id, list] of replay.changes) {
        const { objectType, attributes } = splitCompositeKey(splitStateId(id)[1]);
        for (const change of list) {
            const { isDelete, value, ...transaction } = change;
            const entry = byTransaction.get(change.transactionId) ?? { ...transaction, writes: [] };
            entry.writes.push({ key: [objectType, ...attributes], isDelete, ...(value === undefined ? {} : { value }) });
            byTransaction.set(change.transactionId, entry);
        }
    }
    return [...byTransaction.values()].sort((left, right) => left.blockNumber - right.blockNumber || left.txIndex - right.txIndex);
}

export interface Tally {
    readonly documents: Readonly<Record<string, number>>;
    readonly verifications: Readonly<Record<string, number>>;
    readonly handoffs: Readonly<Record<string, number>>;
    /** Handoffs past the deadline they wait on, at `at`. */
    readonly overdue: number;
    readonly cases: Readonly<Record<string, number>>;
}

/** Counts of the replayed records; overdue as of `at` (the last replayed transaction's time). */
export function tally(state: ReplayedState, at: Date): Tally {
    const count = (into: Record<string, number>, key: string): void => {
        into[key] = (into[key] ?? 0) + 1;
    };
    const documents: Record<string, number> = {};
    for (const { attributes } of state.all(OBJECT_TYPES.documentHead)) {
        count(documents, attributes[0] ?? '');
    }
    const verifications: Record<string, number> = {};
    for (const { record } of state.all<VerificationRecord>(OBJECT_TYPES.verification)) {
        count(verifications, record.verdict);
    }
    const handoffs: Record<string, number> = {};
    let overdue = 0;
    for (const { attributes } of state.all<Dispatch>(OBJECT_TYPES.handoff)) {
        const handoff = state.handoff(attributes[0] ?? '', attributes[1] ?? '') as Handoff;
        count(handoffs, handoff.status);
        const waitingOn = handoff.status === 'SENT' || handoff.status === 'MISMATCH' ? handoff.receiptDeadline
            : handoff.status === 'RECEIVED' ? handoff.acknowledgementDeadline : undefined;
        if (waitingOn && new Date(waitingOn) < at) {
            overdue++;
        }
    }
    const cases: Record<string, number> = {};
    for (const { record } of state.all<CaseRecord>(OBJECT_TYPES.case)) {
        count(cases, record.status);
    }
    return { documents, verifications, handoffs, overdue, cases };
}

/** A row of the gateway's query tables that does not match the replayed ledger. */
export interface IndexDivergence {
    readonly table: string;
    readonly key: string;
    readonly problem: 'missing' | 'unexpected' | 'differs';
    /** The block and transaction the row says it came from. */
    readonly blockNumber?: number;
    readonly transactionId?: string;
}

/**
 * Compares the gateway's query tables (documents, verifications, handoffs, cases, case and document messages,
 * foreign authorities and certificates)
 * with the records in the replayed state, row by row: each row's record must equal the ledger's,
 * and every record must have its row. (EXPIRED is never stored: it is read as the stored status.)
 */
export async function indexDivergences(pool: Pool, state: ReplayedState, pageSize = 5000): Promise<IndexDivergence[]> {
    const divergences: IndexDivergence[] = [];
    /**
     * Pages through a table in key order and compares each row with the ledger's record for its
     * key (the attributes of the record's state key), parsed only then; each view is a column of
     * the row and what it must equal. Keys the ledger has and the table lacks are missing.
     */
    const compare = async <T>(
        table: string, keyColumns: readonly string[], expectedOf: (key: string[]) => T | undefined, expectedKeys: Iterable<string[]>,
        views: readonly { readonly table: string; readonly column: string; readonly of: (record: T) => unknown }[] = [{ table, column: 'record', of: (record) => record }],
        ledgerKeyOf: (row: Record<string, unknown>) => string[] = (row) => keyColumns.map((column) => String(row[column])),
    ): Promise<void> => {
        const seen = new Set<string>();
        const name = (key: readonly string[]): string => key.join('/');
        for await (const page of tablePages(pool, table, [...new Set([...keyColumns, ...views.map((view) => view.column), 'block_number', 'transaction_id'])], keyColumns, pageSize)) {
            for (const row of page) {
                const key = ledgerKeyOf(row);
                const named = name(key);
                seen.add(named);
                const where = { blockNumber: Number(row.block_number), transactionId: String(row.transaction_id) };
                const ledger = expectedOf(key);
                for (const view of views) {
                    if (ledger === undefined) {
                        divergences.push({ table: view.table, key: named, problem: 'unexpected', ...where });
                    } else if (!sameJson(row[view.column], view.of(ledger))) {
                        divergences.push({ table: view.table, key: named, problem: 'differs', ...where });
                    }
                }
            }
        }
        for (const key of expectedKeys) {
            if (!seen.has(name(key))) {
                divergences.push(...views.map((view) => ({ table: view.table, key: name(key), problem: 'missing' as const })));
            }
        }
    };
    await compare('documents', ['type', 'number'], ([type = '', number = '']) => state.document(type, number), state.keys(OBJECT_TYPES.documentHead));
    await compare('verifications', ['declaration_number', 'permit_number'], ([declaration = '', permit = '']) => state.verification(declaration, permit),
        state.keys(OBJECT_TYPES.verification));
    await compare('handoffs', ['sender', 'message_id'], ([sender = '', messageId = '']) => state.handoff(sender, messageId), state.keys(OBJECT_TYPES.handoff), [
        { table: 'handoffs', column: 'record', of: (record: Handoff) => record },
        { table: 'handoffs.status', column: 'status', of: (record: Handoff) => record.status },
    ]);
    await compare('cases', ['case_id'], ([caseId = '']) => state.caseRecord(caseId), state.keys(OBJECT_TYPES.case));
    // A message's state key numbers it with six digits.
    await compare('case_messages', ['case_id', 'sequence'], ([caseId = '', sequence = '']) => state.value<CaseMessage>(OBJECT_TYPES.caseMessage, [caseId, sequence]),
        state.keys(OBJECT_TYPES.caseMessage), undefined, (row) => [String(row.case_id), String(row.sequence).padStart(6, '0')]);
    await compare('document_messages', ['type', 'number', 'sequence'],
        ([type = '', number = '', sequence = '']) => state.value<ThreadMessage>(OBJECT_TYPES.threadMessage, [type, number, sequence]),
        state.keys(OBJECT_TYPES.threadMessage), undefined, (row) => [String(row.type), String(row.number), String(row.sequence).padStart(6, '0')]);
    await compare('foreign_authorities', ['authority_id'], ([authorityId = '']) => state.value(OBJECT_TYPES.authority, [authorityId]), state.keys(OBJECT_TYPES.authority));
    await compare('foreign_certificates', ['authority_id', 'number', 'document_hash'], (key) => state.value(OBJECT_TYPES.foreignCertificate, key),
        state.keys(OBJECT_TYPES.foreignCertificate));
    return divergences;
}

/** A query table's rows in key order, a page at a time: a large table is never held whole. */
function tablePages(pool: Pool, table: string, columns: readonly string[], keyColumns: readonly string[], size: number): AsyncGenerator<Record<string, unknown>[]> {
    const keys = keyColumns.join(', ');
    return keysetPages<Record<string, unknown>>(size, async (after) => (await pool.query<Record<string, unknown>>(
        `SELECT ${columns.join(', ')} FROM ${table}${after ? ` WHERE (${keys}) > (${keyColumns.map((_, index) => `$${index + 1}`).join(', ')})` : ''}
          ORDER BY ${keys} LIMIT ${size}`,
        after ? keyColumns.map((column) => after[column]) : [])).rows);
}

/** Equal as JSON values, whatever the order of object members (jsonb reorders them). */
function sameJson(left: unknown, right: unknown): boolean {
    return canonicalJson(left) === canonicalJson(right);
}
