import { canonicalJson, type CaseMessage, type CaseRecord, type Handoff, type VerificationRecord } from '@counterfoil/chaincode';
import type { Principal } from '../auth/principal';
import { evaluateAs, type Services } from '../services';
import { type PdfContent, readSigned, renderSigned } from './render';
import type { Statement, StatementKind, StatementSigner } from './statement';

const AGENCY_NAMES: Readonly<Record<string, string>> = {
    CustomsMSP: '海关 Customs', CommerceMSP: '商务主管部门 Commerce', TaxMSP: '税务局 Tax', ForexMSP: '外汇管理局 Forex',
    InspectionMSP: '检验检疫 Inspection', EnterprisesMSP: '企业 Enterprise',
};

/** The principal the hub reads the ledger as when it checks a proof: an auditor sees every record. */
const VERIFIER: Principal = { subject: 'proof-verifier', org: 'CustomsMSP', role: 'auditor' };

function agency(mspId: string): string {
    return `${AGENCY_NAMES[mspId] ?? mspId} (${mspId})`;
}

async function enterpriseName(services: Services, uscc: string): Promise<string> {
    const result = await services.pool.query<{ summary: Record<string, string> | null }>(
        `SELECT record -> 'summary' AS summary FROM documents WHERE holder = $1::text ORDER BY updated_at DESC LIMIT 20`, [uscc]);
    for (const row of result.rows) {
        const name = row.summary?.holderName ?? row.summary?.exporter ?? row.summary?.enterpriseName;
        if (name) {
            return `${name} (${uscc})`;
        }
    }
    return uscc;
}

async function blockOf(services: Services, transactionId: string | undefined): Promise<string> {
    if (!transactionId) {
        return '';
    }
    const found = await services.ledger.transaction(transactionId);
    return found ? found.blockNumber.toString() : '';
}

async function baseStatement(services: Services, kind: StatementKind, subject: Record<string, string>, claims: Record<string, unknown>): Promise<Statement> {
    const info = await services.ledger.info();
    return { kind, issuedAt: new Date().toISOString(), ledger: { height: info.height.toString(), tipHash: info.currentBlockHash }, subject, claims };
}

/** The facts a proof of delivery states about a handoff, as they stand on the ledger. */
async function handoffClaims(services: Services, handoff: Handoff): Promise<Record<string, unknown>> {
    return {
        sender: handoff.sender, recipient: handoff.recipient, subject: handoff.subject, document: handoff.document, payloadHash: handoff.payloadHash,
        status: handoff.status, sentTransactionId: handoff.transactionId, sentBlock: await blockOf(services, handoff.transactionId),
        receipt: handoff.receipt ? { ...handoff.receipt, block: await blockOf(services, handoff.receipt.transactionId) } : null,
        acknowledgement: handoff.acknowledgement ? { ...handoff.acknowledgement, block: await blockOf(services, handoff.acknowledgement.transactionId) } : null,
    };
}

async function verificationClaims(services: Services, verification: VerificationRecord): Promise<Record<string, unknown>> {
    return {
        declarationNumber: verification.declarationNumber, permit: verification.permit, holder: verification.holder, verdict: verification.verdict,
        reasons: verification.reasons.map((reason) => reason.code), drawdown: verification.drawdown, transactionId: verification.transactionId,
        block: await blockOf(services, verification.transactionId), released: verification.release ? verification.release.transactionId : null,
    };
}

async function caseClaims(services: Services, record: CaseRecord, messages: readonly CaseMessage[]): Promise<Record<string, unknown>> {
    return {
        caseId: record.caseId, subject: record.subject, reason: record.reason, parties: record.parties, status: record.status,
        openedTransactionId: record.transactionId, outcome: record.outcome ?? null, statementHash: record.statementHash ?? null,
        messages: messages.map((message) => ({ author: message.author, hash: message.messageHash, transactionId: message.transactionId })),
        block: await blockOf(services, record.transactionId),
    };
}

export async function handoffProof(services: Services, signer: StatementSigner, principal: Principal, sender: string, messageId: string): Promise<Uint8Array> {
    const handoff = await evaluateAs<Handoff>(services, principal, 'handoffs', 'Get', { sender, messageId });
    const claims = await handoffClaims(services, handoff);
    const receipt = claims.receipt as { block: string } | null;
    const acknowledgement = claims.acknowledgement as { block: string } | null;
    const content: PdfContent = {
        title: '交付证明 Proof of delivery',
        subtitle: `Handoff ${messageId} from ${agency(sender)} — as recorded on the Counterfoil ledger`,
        sections: [
            { heading: '当事方 Parties', rows: [['Sender', agency(handoff.sender)], ['Recipient', agency(handoff.recipient)], ['Enterprise', await enterpriseName(services, handoff.subject)]] },
            { heading: '单证 Document', rows: [['Type / number', `${handoff.document.type} ${handoff.document.number}`], ['Payload SHA-256', handoff.payloadHash], ['Size', `${handoff.size} bytes`]] },
            { heading: '发送 Sent', rows: [['At', handoff.sentAt], ['Transaction', handoff.transactionId], ['Block', String(claims.sentBlock)], ['Receipt due', handoff.receiptDeadline], ['Decision due', handoff.acknowledgementDeadline], ['Retransmissions', String(handoff.retransmissions)]] },
            {
                heading: '签收 Receipt', rows: handoff.receipt
                    ? [['At', handoff.receipt.at], ['Hash reported', handoff.receipt.payloadHash], ['Matches', handoff.receipt.matches ? 'yes — the recipient holds exactly what was sent' : 'NO — content differs'], ['Transaction', handoff.receipt.transactionId], ['Block', receipt?.block ?? '']]
                    : [['Status', 'no receipt recorded by the recipient']],
            },
            {
                heading: '回执 Acknowledgement', rows: handoff.acknowledgement
                    ? [['Decision', handoff.acknowledgement.decision], ...(handoff.acknowledgement.reasonCode ? [['Reason', `${handoff.acknowledgement.reasonCode} ${handoff.acknowledgement.text ?? ''}`] as const] : []), ['At', handoff.acknowledgement.at], ['Transaction', handoff.acknowledgement.transactionId], ['Block', acknowledgement?.block ?? '']]
                    : [['Status', 'no decision recorded by the recipient']],
            },
            { heading: '状态 Status', rows: [['Current status', handoff.status]] },
        ],
        footer: 'Counterfoil · the statement embedded in this PDF is signed by the hub; check it at POST /v1/proofs/verify',
    };
    return renderSigned(content, await baseStatement(services, 'HANDOFF_PROOF', { sender, messageId }, claims), signer);
}

export async function verificationCertificate(services: Services, signer: StatementSigner, principal: Principal, declarationNumber: string, permitNumber: string): Promise<Uint8Array> {
    const verification = await evaluateAs<VerificationRecord>(services, principal, 'verifications', 'Get', { declarationNumber, permitNumber });
    const claims = await verificationClaims(services, verification);
    const content: PdfContent = {
        title: '许可证核验证书 Permit verification certificate',
        subtitle: `Declaration ${declarationNumber}, ${verification.permit.type} ${permitNumber}`,
        sections: [
            { heading: '核验 Verification', rows: [['Verdict', verification.verdict], ['Reasons', verification.reasons.map((reason) => `${reason.code}: ${reason.detail}`).join('; ') || 'none'], ['Verified by', agency(verification.verifiedBy)], ['At', verification.verifiedAt], ['Port', verification.port], ['Transaction', verification.transactionId], ['Block', String(claims.block)]] },
            { heading: '企业 Declarant', rows: [['Enterprise', await enterpriseName(services, verification.holder)], ['Direction', verification.direction], ['Declared at', verification.declaredAt]] },
            { heading: '核减 Drawdown', rows: verification.drawdown.length > 0 ? verification.drawdown.map((line) => [line.hsCode, `${line.quantity} ${line.unit}`] as const) : [['—', 'nothing drawn']] },
            { heading: '余量 Balance after', rows: [...verification.balance.map((line) => [line.hsCode, `${line.remaining} ${line.unit} of ${line.licensed} remain`] as const), ['Uses remaining', String(verification.usesRemaining)]] },
            ...(verification.release ? [{ heading: '释放 Released', rows: [['Reason', verification.release.reason], ['At', verification.release.at], ['Transaction', verification.release.transactionId]] as const }] : []),
        ],
        footer: 'Counterfoil · the statement embedded in this PDF is signed by the hub; check it at POST /v1/proofs/verify',
    };
    return renderSigned(content, await baseStatement(services, 'VERIFICATION_CERTIFICATE', { declarationNumber, permitNumber }, claims), signer);
}

export async function caseSummary(services: Services, signer: StatementSigner, principal: Principal, caseId: string): Promise<Uint8Array> {
    const record = await evaluateAs<CaseRecord>(services, principal, 'cases', 'Get', { caseId });
    const messages = (await evaluateAs<{ records: CaseMessage[] }>(services, principal, 'cases', 'Messages', { caseId, pageSize: 200 })).records;
    const claims = await caseClaims(services, record, messages);
    const parties = await Promise.all(record.parties.map((party) => (/^[0-9A-Z]{18}$/.test(party) ? enterpriseName(services, party) : Promise.resolve(agency(party)))));
    const subject = record.subject.kind === 'HANDOFF' ? `handoff ${record.subject.messageId} from ${record.subject.sender}`
        : record.subject.kind === 'DOCUMENT' ? `${record.subject.type} ${record.subject.number}` : `foreign certificate ${record.subject.number} of ${record.subject.authorityId}`;
    const content: PdfContent = {
        title: '争议案件摘要 Case summary',
        subtitle: `Case ${caseId}: ${record.reason} on ${subject}`,
        sections: [
            { heading: '当事方 Parties', rows: parties.map((party, index) => [index === 0 ? 'Parties' : '', party] as const) },
            { heading: '案件 Case', rows: [['Opened by', record.openedBy], ['Opened at', record.openedAt], ['Statement SHA-256', record.statementHash ?? '—'], ['Status', record.status], ['Transaction', record.transactionId]] },
            { heading: '往来消息 Messages', rows: messages.length > 0 ? messages.map((message) => [`#${message.sequence} ${message.author}`, `${message.messageHash} (tx ${message.transactionId})`] as const) : [['—', 'no messages']] },
            ...(record.outcome ? [{ heading: '结果 Outcome', rows: [['Code', record.outcome.code], ['By', record.outcome.by], ['At', record.outcome.at], ['Transaction', record.outcome.transactionId]] as const }] : []),
        ],
        footer: 'Counterfoil · the statement embedded in this PDF is signed by the hub; check it at POST /v1/proofs/verify',
    };
    return renderSigned(content, await baseStatement(services, 'CASE_SUMMARY', { caseId }, claims), signer);
}

export interface ProofVerdict {
    readonly verdict: 'authentic' | 'forged';
    readonly reason: string;
    readonly kind?: StatementKind;
    readonly subject?: Readonly<Record<string, string>>;
    readonly issuedAt?: string;
}

/** Checks an uploaded PDF: the signature over the whole file, then every claim against the ledger as it stands. */
export async function verifyProof(services: Services, signer: StatementSigner, bytes: Uint8Array): Promise<ProofVerdict> {
    const read = await readSigned(bytes, signer);
    if ('problem' in read) {
        return { verdict: 'forged', reason: read.problem };
    }
    const { statement } = read;
    const about = { kind: statement.kind, subject: statement.subject, issuedAt: statement.issuedAt };
    let current: Record<string, unknown>;
    try {
        if (statement.kind === 'HANDOFF_PROOF') {
            current = await handoffClaims(services, await evaluateAs<Handoff>(services, VERIFIER, 'handoffs', 'Get', statement.subject));
        } else if (statement.kind === 'VERIFICATION_CERTIFICATE') {
            current = await verificationClaims(services, await evaluateAs<VerificationRecord>(services, VERIFIER, 'verifications', 'Get', statement.subject));
        } else {
            const record = await evaluateAs<CaseRecord>(services, VERIFIER, 'cases', 'Get', statement.subject);
            const messages = (await evaluateAs<{ records: CaseMessage[] }>(services, VERIFIER, 'cases', 'Messages', { ...statement.subject, pageSize: 200 })).records;
            current = await caseClaims(services, record, messages);
        }
    } catch {
        return { verdict: 'forged', reason: 'the record this PDF is about is not on the ledger', ...about };
    }
    const changed = Object.keys({ ...statement.claims, ...current }).sort()
        .filter((field) => canonicalJson(statement.claims[field] ?? null) !== canonicalJson(current[field] ?? null));
    // A record moves on (a receipt arrives, a case closes): what the PDF left open may since be
    // settled, but nothing it stated may differ.
    const progressed = new Set(['status', 'receipt', 'acknowledgement', 'outcome', 'messages', 'released']);
    const contradicted = changed.filter((field) => {
        if (!progressed.has(field)) {
            return true; // a fact that never changes once recorded
        }
        if (field === 'status') {
            return false;
        }
        if (field === 'messages') {
            return !extends_(statement.claims.messages, current.messages);
        }
        return (statement.claims[field] ?? null) !== null; // settled in the PDF, different now
    });
    if (contradicted.length > 0) {
        return { verdict: 'forged', reason: `the ledger does not say what the PDF says about: ${contradicted.join(', ')}`, ...about };
    }
    if (changed.length > 0) {
        return { verdict: 'authentic', reason: `signed by this hub, pages unchanged, and true as of ${statement.issuedAt}; since then the ledger has recorded more: ${changed.join(', ')}`, ...about };
    }
    return { verdict: 'authentic', reason: 'signed by this hub, pages unchanged, and every claim matches the ledger', ...about };
}

/** True when the current list of messages starts with the stated one. */
function extends_(stated: unknown, current: unknown): boolean {
    return Array.isArray(stated) && Array.isArray(current) && stated.every((entry, index) => canonicalJson(entry) === canonicalJson(current[index]));
}
