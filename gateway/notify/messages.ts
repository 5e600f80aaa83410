import type { CaseRecord } from '@counterfoil/chaincode';
import type { Language } from '../exports/tables';

/**
 * What an e-mail says of each notification, in the reader's language: a title and the console
 * page it links to. Built when the mail is composed, from the details kept with the notification.
 */
export const TOPICS = ['CASE_OPENED', 'CASE_RESOLVED', 'MESSAGE_RECEIVED', 'HANDOFF_REJECTED', 'HANDOFF_OVERDUE', 'PERMIT_EXHAUSTED', 'DOCUMENT_REVOKED'] as const;
export type Topic = (typeof TOPICS)[number];

/** The agencies as each language names them. */
export const AGENCY_NAMES: Readonly<Record<string, Record<Language, string>>> = {
    CustomsMSP: { en: 'Customs', zh: '海关' },
    CommerceMSP: { en: 'Commerce', zh: '商务主管部门' },
    TaxMSP: { en: 'Tax', zh: '税务' },
    ForexMSP: { en: 'Foreign exchange', zh: '外汇管理' },
    InspectionMSP: { en: 'Inspection', zh: '检验检疫' },
};

const DOCUMENT_NAMES: Readonly<Record<string, Record<Language, string>>> = {
    LICENCE: { en: 'licence', zh: '许可证' },
    ORIGIN_CERT: { en: 'certificate of origin', zh: '原产地证书' },
    INSPECTION_CERT: { en: 'inspection certificate', zh: '检验检疫证书' },
    EXPORT_DECLARATION: { en: 'export declaration', zh: '出口报关单' },
};

const REASONS: Readonly<Record<string, Record<Language, string>>> = {
    NOT_RECEIVED: { en: 'not received', zh: '未收到' },
    CONTENT_MISMATCH: { en: 'content does not match', zh: '内容不符' },
    SIGNATURE_MISMATCH: { en: 'signature does not match', zh: '签名不符' },
    DATA_ERROR: { en: 'data error', zh: '数据错误' },
    OTHER: { en: 'other', zh: '其他' },
};

/** What a notification keeps to be told later: the kind of thing, and its particulars. */
export type Details =
    | { readonly topic: 'CASE_OPENED'; readonly caseId: string; readonly reason: string; readonly openedBy: string }
    | { readonly topic: 'CASE_RESOLVED'; readonly caseId: string; readonly code: string; readonly by: string }
    | { readonly topic: 'MESSAGE_RECEIVED'; readonly author: string; readonly sequence: number; readonly caseId?: string; readonly document?: { type: string; number: string } }
    | { readonly topic: 'HANDOFF_REJECTED'; readonly sender: string; readonly recipient: string; readonly messageId: string; readonly reasonCode?: string; readonly document: { type: string; number: string } }
    | { readonly topic: 'HANDOFF_OVERDUE'; readonly sender: string; readonly recipient: string; readonly messageId: string; readonly deadline: string; readonly step: 'receipt' | 'acknowledgement' }
    | { readonly topic: 'PERMIT_EXHAUSTED' | 'DOCUMENT_REVOKED'; readonly type: string; readonly number: string };

const party = (id: string, language: Language): string => AGENCY_NAMES[id]?.[language] ?? id;
const documentName = (type: string, language: Language): string => DOCUMENT_NAMES[type]?.[language] ?? type;

/** A time as the reader's language writes it, in China Standard Time (the console's readers' zone). */
export function mailTime(iso: string, language: Language): string {
    return new Date(iso).toLocaleString(language === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short' });
}

export function describe(details: Details, language: Language): { title: string; page: string } {
    const zh = language === 'zh';
    switch (details.topic) {
        case 'CASE_OPENED': {
            const reason = REASONS[details.reason]?.[language] ?? details.reason;
            return {
                title: zh ? `${party(details.openedBy, language)}就案件 ${details.caseId} 立案：${reason}` : `Case ${details.caseId} opened by ${party(details.openedBy, language)}: ${reason}`,
                page: `#/cases/${encodeURIComponent(details.caseId)}`,
            };
        }
        case 'CASE_RESOLVED':
            return {
                title: zh ? `案件 ${details.caseId} 已由${party(details.by, language)}结案（${details.code}）` : `Case ${details.caseId} resolved by ${party(details.by, language)} (${details.code})`,
                page: `#/cases/${encodeURIComponent(details.caseId)}`,
            };
        case 'MESSAGE_RECEIVED': {
            const where = details.caseId !== undefined
                ? (zh ? `案件 ${details.caseId}` : `case ${details.caseId}`)
                : `${documentName(details.document?.type ?? '', language)} ${details.document?.number ?? ''}`;
            return {
                title: zh ? `${party(details.author, language)}发来新消息（第 ${details.sequence} 条）：${where}` : `New message #${details.sequence} from ${party(details.author, language)} about ${where}`,
                page: details.caseId !== undefined ? `#/cases/${encodeURIComponent(details.caseId)}` : `#/trace?declaration=${details.document?.number ?? ''}`,
            };
        }
        case 'HANDOFF_REJECTED':
            return {
                title: zh
                    ? `${party(details.recipient, language)}拒收了${party(details.sender, language)}发送的报文 ${details.messageId}${details.reasonCode ? `（${details.reasonCode}）` : ''}`
                    : `${party(details.recipient, language)} rejected ${details.messageId} from ${party(details.sender, language)}${details.reasonCode ? ` (${details.reasonCode})` : ''}`,
                page: details.document.type === 'EXPORT_DECLARATION' ? `#/trace?declaration=${details.document.number}` : '#/unconfirmed',
            };
        case 'HANDOFF_OVERDUE': {
            const when = mailTime(details.deadline, language);
            const step = details.step === 'receipt' ? (zh ? '接收' : 'received') : (zh ? '处理' : 'decided');
            return {
                title: zh
                    ? `报文 ${details.messageId}（${party(details.sender, language)} → ${party(details.recipient, language)}）超过期限 ${when} 仍未${step}`
                    : `${details.messageId} (${party(details.sender, language)} → ${party(details.recipient, language)}) was not ${step} by its deadline, ${when}`,
                page: '#/unconfirmed',
            };
        }
        case 'PERMIT_EXHAUSTED':
            return {
                title: zh ? `${documentName(details.type, language)} ${details.number} 已用尽` : `The ${documentName(details.type, language)} ${details.number} is exhausted`,
                page: '#/trace',
            };
        case 'DOCUMENT_REVOKED':
            return {
                title: zh ? `${documentName(details.type, language)} ${details.number} 已被撤销` : `The ${documentName(details.type, language)} ${details.number} was revoked`,
                page: '#/trace',
            };
    }
}

/**
 * The mail a foreign issuing authority gets about a case on one of its certificates, at the
 * contact address on file. It cannot sign in to the console, so the mail carries the case itself:
 * what was expected and what was found, and how to answer. English, with the case in Chinese too.
 */
export function authorityMail(caseRecord: CaseRecord, authorityName: string): { subject: string; text: string; html: string } {
    const subject = caseRecord.subject as Extract<CaseRecord['subject'], { kind: 'FOREIGN_CERTIFICATE' }>;
    const receiver = party(caseRecord.openedBy, 'en');
    const closed = caseRecord.outcome
        ? `The case was closed ${caseRecord.status === 'RESOLVED' ? `as ${caseRecord.outcome.code} by ${party(caseRecord.outcome.by, 'en')}` : 'by its opener'} on ${mailTime(caseRecord.outcome.at, 'en')}.`
        : undefined;
    const lines = [
        `To ${authorityName}:`,
        '',
        closed ?? `China ${receiver} received your certificate ${subject.number}, and its signature does not match what is on file for ${subject.authorityId}.`,
        `Case ${caseRecord.caseId}; the certificate as received has SHA-256 ${subject.documentHash}.`,
        ...(closed ? [] : [
            '',
            ...(caseRecord.findings ?? []).flatMap((finding) => [`${finding.code}`, `  expected: ${finding.expected}`, `  found:    ${finding.found}`]),
            '',
            `Please reply to ${receiver} quoting case ${caseRecord.caseId}: confirm the certificate and its signing certificate, or issue a corrected one.`,
        ]),
        '',
        closed ? `案件 ${caseRecord.caseId} 已结案。` : `${party(caseRecord.openedBy, 'zh')}收到的证书 ${subject.number} 签名与备案不符，已立案 ${caseRecord.caseId}。`,
    ];
    const title = closed ? `Case ${caseRecord.caseId} on certificate ${subject.number} is closed` : `Certificate ${subject.number}: the signature does not match what China ${receiver} has on file`;
    const text = lines.join('\n');
    return { subject: `[Counterfoil] ${title}`, text, html: `<!doctype html><html lang="en"><body><pre>${escapeHtml(text)}</pre></body></html>` };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** One e-mail for one or more notifications (a digest when several came close together). */
export function composeMail(items: readonly Details[], language: Language, consoleUrl: string): { subject: string; text: string; html: string } {
    const zh = language === 'zh';
    const described = items.map((item) => ({ ...describe(item, language), link: `${consoleUrl}${describe(item, language).page}` }));
    const prefix = zh ? '【存根】' : '[Counterfoil] ';
    const subject = described.length === 1 ? `${prefix}${(described[0] as { title: string }).title}` : `${prefix}${zh ? `${described.length} 条新通知` : `${described.length} updates`}`;
    const footer = zh
        ? '您收到此邮件是因为您在存根控制台中订阅了这些通知。可在控制台中更改或取消订阅。'
        : 'You receive this because you subscribed to these notifications in the Counterfoil console, where you can change or end them.';
    const text = [...described.map((item) => `- ${item.title}\n  ${item.link}`), '', footer].join('\n');
    const html = `<!doctype html><html lang="${zh ? 'zh-CN' : 'en'}"><body><ul>${described.map((item) => `<li><a href="${escapeHtml(item.link)}">${escapeHtml(item.title)}</a></li>`).join('')}</ul><p>${escapeHtml(footer)}</p></body></html>`;
    return { subject, text, html };
}
