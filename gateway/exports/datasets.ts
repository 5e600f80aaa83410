import { type CaseRecord, caseSubjectParts, type DocumentRecord, type Handoff, type VerificationRecord } from '@counterfoil/chaincode';
import { type Principal, seesEverything } from '../auth/principal';
import { withExpiry } from '../queries/records';
import type { Cell, Column } from './tables';

/** What a dataset's query is given: the range, and whose rows the caller may have. */
export interface ExportScope {
    readonly from: string;
    readonly to: string;
    /** An enterprise's USCC: only its own data. */
    readonly enterprise?: string;
    /** An agency that does not see everything: only what it is party to (where that limits). */
    readonly agency?: string;
}

export function scopeOf(principal: Principal, from: string, to: string): ExportScope {
    return { from, to, enterprise: principal.uscc, agency: principal.uscc || seesEverything(principal) ? undefined : principal.org };
}

/**
 * A dataset an export can hold: its columns, its query over the query tables (ordered) with the
 * values of its parameters, and how a row becomes cells.
 */
export interface Dataset<Row = Record<string, unknown>> {
    readonly sheet: string;
    readonly columns: readonly Column[];
    readonly sql: string;
    values(scope: ExportScope): unknown[];
    cells(row: Row): Cell[];
}

/** $1 from, $2 to, $3 the enterprise: for what every agency may see. */
const byEnterprise = (scope: ExportScope): unknown[] => [scope.from, scope.to, scope.enterprise ?? null];
/** $1 from, $2 to, $3 the enterprise, $4 the agency: for what only its parties may see. */
const byParty = (scope: ExportScope): unknown[] => [scope.from, scope.to, scope.enterprise ?? null, scope.agency ?? null];

const time = (value: string | undefined): Cell => value ?? null;
const goodsText = (goods: readonly { hsCode: string; quantity: number; unit: string }[] | undefined): Cell =>
    goods?.map((line) => `${line.hsCode} ${line.quantity} ${line.unit}`).join('; ') ?? null;

/** The same columns for each dataset's record id, in both languages. */
const TRANSACTION: Column = { en: 'Ledger transaction', zh: '账本交易' };

const documents: Dataset<{ record: DocumentRecord }> = {
    sheet: 'Documents',
    columns: [
        { en: 'Type', zh: '单证类型' }, { en: 'Number', zh: '编号' }, { en: 'Version', zh: '版本' }, { en: 'Issuer', zh: '签发机构' },
        { en: 'Holder (USCC)', zh: '持有企业（统一社会信用代码）' }, { en: 'Status', zh: '状态' }, { en: 'Valid from', zh: '生效时间' }, { en: 'Valid to', zh: '失效时间' },
        { en: 'Direction', zh: '进出口方向' }, { en: 'Goods (HS code, quantity, unit)', zh: '商品（商品编码、数量、单位）' }, { en: 'Use limit', zh: '使用次数上限' },
        { en: 'Content hash', zh: '内容哈希' }, { en: 'Issued at', zh: '签发时间' }, { en: 'Updated at', zh: '更新时间' }, { en: 'Revocation reason', zh: '撤销原因' }, TRANSACTION,
    ],
    // Issued in the range: the record's own issue time, which the table keeps in the record only.
    sql: `SELECT record FROM documents
           WHERE (record->>'issuedAt')::timestamptz >= $1::timestamptz AND (record->>'issuedAt')::timestamptz < $2::timestamptz
             AND ($3::text IS NULL OR holder = $3::text)
           ORDER BY type, number`,
    values: byEnterprise,
    cells: ({ record: stored }) => {
        const record = withExpiry(stored);
        return [
            record.type, record.number, record.version, record.issuer, record.holder, record.status, record.validFrom, record.validTo,
            record.permit?.direction ?? null, goodsText(record.permit?.goods), record.permit?.useLimit ?? null,
            record.contentHash, record.issuedAt, record.updatedAt, record.revocation?.reason ?? null, record.transactionId,
        ];
    },
};

const verifications: Dataset<{ record: VerificationRecord }> = {
    sheet: 'Verifications',
    columns: [
        { en: 'Declaration', zh: '报关单号' }, { en: 'Permit type', zh: '许可证件类型' }, { en: 'Permit number', zh: '许可证件编号' },
        { en: 'Holder (USCC)', zh: '持有企业（统一社会信用代码）' }, { en: 'Direction', zh: '进出口方向' }, { en: 'Port', zh: '口岸' },
        { en: 'Goods (HS code, quantity, unit)', zh: '商品（商品编码、数量、单位）' }, { en: 'Verdict', zh: '核验结果' }, { en: 'Reasons', zh: '原因' },
        { en: 'Uses remaining', zh: '剩余使用次数' }, { en: 'Declared at', zh: '申报时间' }, { en: 'Verified at', zh: '核验时间' }, { en: 'Verified by', zh: '核验机构' },
        { en: 'Released at', zh: '核注释放时间' }, TRANSACTION,
    ],
    sql: `SELECT record FROM verifications
           WHERE verified_at >= $1::timestamptz AND verified_at < $2::timestamptz
             AND ($3::text IS NULL OR holder = $3::text)
           ORDER BY verified_at, declaration_number, permit_number`,
    values: byEnterprise,
    cells: ({ record }) => [
        record.declarationNumber, record.permit.type, record.permit.number, record.holder, record.direction, record.port, goodsText(record.goods),
        record.verdict, record.reasons.map((reason) => `${reason.code}: ${reason.detail}`).join('; ') || null, record.usesRemaining,
        record.declaredAt, record.verifiedAt, record.verifiedBy, time(record.release?.at), record.transactionId,
    ],
};

const handoffs: Dataset<{ record: Handoff; timeline: string | null }> = {
    sheet: 'Handoffs',
    columns: [
        { en: 'Sender', zh: '发送机构' }, { en: 'Message id', zh: '报文编号' }, { en: 'Recipient', zh: '接收机构' }, { en: 'Subject (USCC)', zh: '所涉企业（统一社会信用代码）' },
        { en: 'Document type', zh: '单证类型' }, { en: 'Document number', zh: '单证编号' }, { en: 'Status', zh: '状态' }, { en: 'Sent at', zh: '发送时间' },
        { en: 'Receipt deadline', zh: '回执期限' }, { en: 'Received at', zh: '接收时间' }, { en: 'Payload matches', zh: '报文哈希一致' },
        { en: 'Acknowledgement deadline', zh: '确认期限' }, { en: 'Decision', zh: '处理结果' }, { en: 'Decided at', zh: '处理时间' }, { en: 'Reason code', zh: '原因代码' }, { en: 'Reason', zh: '原因说明' },
        { en: 'Retransmissions', zh: '重发次数' }, { en: 'Timeline', zh: '时间线' }, TRANSACTION,
    ],
    // Each handoff with its timeline: every step the ledger recorded, in block order.
    sql: `SELECT h.record,
                 (SELECT string_agg(s.name || ' ' || s.status || ' ' || to_char(s.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' #' || s.block_number,
                                    '; ' ORDER BY s.block_number, s.occurred_at)
                    FROM handoff_steps s WHERE s.sender = h.sender AND s.message_id = h.message_id) AS timeline
            FROM handoffs h
           WHERE h.sent_at >= $1::timestamptz AND h.sent_at < $2::timestamptz
             AND ($3::text IS NULL OR h.subject = $3::text) AND ($4::text IS NULL OR h.sender = $4::text OR h.recipient = $4::text)
           ORDER BY h.sent_at, h.sender, h.message_id`,
    values: byParty,
    cells: ({ record, timeline }) => [
        record.sender, record.messageId, record.recipient, record.subject, record.document.type, record.document.number, record.status, record.sentAt,
        record.receiptDeadline, time(record.receipt?.at), record.receipt ? (record.receipt.matches ? 'yes' : 'no') : null,
        record.acknowledgementDeadline, record.acknowledgement?.decision ?? null, time(record.acknowledgement?.at),
        record.acknowledgement?.reasonCode ?? null, record.acknowledgement?.text ?? record.cancellation?.reason ?? null,
        record.retransmissions, timeline, record.transactionId,
    ],
};

const cases: Dataset<{ record: CaseRecord }> = {
    sheet: 'Cases',
    columns: [
        { en: 'Case', zh: '案件编号' }, { en: 'Reason', zh: '原因' }, { en: 'Status', zh: '状态' }, { en: 'About', zh: '所涉事项' },
        { en: 'Parties', zh: '当事方' }, { en: 'Opened by', zh: '提起方' }, { en: 'Opened at', zh: '提起时间' }, { en: 'Messages', zh: '留言数' },
        { en: 'Outcome', zh: '处理结果' }, { en: 'Outcome by', zh: '处理方' }, { en: 'Outcome at', zh: '处理时间' }, { en: 'Updated at', zh: '更新时间' }, TRANSACTION,
    ],
    sql: `SELECT record FROM cases
           WHERE opened_at >= $1::timestamptz AND opened_at < $2::timestamptz
             AND ($3::text IS NULL OR $3::text = ANY (parties)) AND ($4::text IS NULL OR $4::text = ANY (parties))
           ORDER BY opened_at, case_id`,
    values: byParty,
    cells: ({ record }) => [
        record.caseId, record.reason, record.status,
        (([kind, ...names]) => `${kind} ${names.join('/')}`)(caseSubjectParts(record.subject)),
        record.parties.join(' '), record.openedBy, record.openedAt, record.messageCount,
        record.outcome?.code ?? null, record.outcome?.by ?? null, time(record.outcome?.at), record.updatedAt, record.transactionId,
    ],
};

/**
 * What can be exported. Documents and verifications: every agency sees them, an enterprise its
 * own; handoffs: their two agencies and the enterprise whose data they carry; cases: their
 * parties. Auditors and reconciliation: everything. The same audiences as the lists.
 */
export const DATASETS = { documents, verifications, handoffs, cases } as const satisfies Record<string, Dataset>;
export type DatasetName = keyof typeof DATASETS;
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];
