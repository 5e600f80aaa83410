/** JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the API's requests and records. */
import {
    AGENCIES, ATTACHMENT_TYPES, DOCUMENT_TYPES, ENTERPRISES_MSP, EVENT_NAMES, FOREIGN_CERTIFICATE_KINDS, MAX_ATTACHMENT_BYTES, PERMIT_TYPES, REASON_CODES, SIGNATURE_METHODS,
} from '@counterfoil/chaincode';

type Schema = Record<string, unknown>;
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const string = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const integer = (minimum: number, maximum: number): Schema => ({ type: 'integer', minimum, maximum });
const object = (properties: Record<string, Schema>, required: string[], additional = false): Schema => ({
    type: 'object', properties, required, additionalProperties: additional,
});
const array = (items: Schema, maxItems?: number): Schema => ({ type: 'array', items, ...(maxItems ? { maxItems } : {}) });
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });

const uscc = string({ pattern: '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$', description: 'Unified Social Credit Code (GB 32100), check character verified' });
const agency = string({ enum: [...AGENCIES] });
const timestamp = string({ format: 'date-time' });
const sha256 = string({ pattern: '^[0-9a-f]{64}$' });
const documentNumber = string({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$' });
const declarationNumber = string({ pattern: '^[0-9]{18}$' });
const identifier = string({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });
const code = string({ pattern: '^[A-Z][A-Z0-9_]{0,47}$' });
const hsCode = string({ pattern: '^[0-9]{10}$' });
const unit = string({ pattern: '^[A-Z0-9]{1,8}$' });
const quantity = integer(1, 1_000_000_000_000);
const summary = { type: 'object', maxProperties: 20, propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9]{0,31}$' }, additionalProperties: string({ minLength: 1, maxLength: 256 }) };
const goodsLine = object({ hsCode, quantity, unit }, ['hsCode', 'quantity', 'unit']);
const terms = {
    validFrom: timestamp, validTo: timestamp, summary,
    permit: object({ direction: string({ enum: ['IMPORT', 'EXPORT'] }), goods: { ...array(goodsLine, 50), minItems: 1 }, useLimit: integer(1, 12), bulk: { type: 'boolean' } }, ['direction', 'goods', 'useLimit']),
    content: string({ contentEncoding: 'base64', pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$', minLength: 4, maxLength: 1_398_104, description: 'the confidential document, base64; stored in a private data collection, never in a block' }),
};
const attachmentDigest = object({ sha256, size: integer(1, MAX_ATTACHMENT_BYTES), mediaType: string({ enum: [...ATTACHMENT_TYPES] }) }, ['sha256', 'size', 'mediaType']);
const authorityId = string({ pattern: '^[A-Z]{2}-[A-Z0-9]{1,16}(?:-[A-Z0-9]{1,16}){0,2}$', maxLength: 40, description: 'ISO 3166 country code, a hyphen and the authority\'s short name, e.g. AU-DAFF' });
const email = string({ format: 'email', maxLength: 254 });
const finding = object({
    code: string({ enum: ['SIGNATURE_INVALID', 'SIGNER_NOT_ON_FILE', 'SIGNER_NOT_VALID_AT_SIGNING', 'SIGNER_RETIRED', 'SIGNED_IN_FUTURE'] }), expected: string(), found: string(),
}, ['code', 'expected', 'found']);
const signerIdentity = { fingerprint: sha256, subject: string(), issuer: string(), serialNumber: string(), notBefore: timestamp, notAfter: timestamp };
const page = (items: string): Schema => object({ items: array(ref(items)), nextCursor: nullable(string()) }, ['items', 'nextCursor']);

export const SCHEMAS: Record<string, Schema> = {
    Problem: object({
        type: string(), title: string(), status: integer(400, 599), detail: string(), code: string(), field: string(), instance: string(),
        requestId: string(), transactionId: string(), validationCode: string(), retryAfterSeconds: { type: 'integer' }, allow: string(),
    }, ['type', 'title', 'status', 'detail', 'code']),

    IssueDocument: object({ type: string({ enum: [...DOCUMENT_TYPES] }), number: documentNumber, holder: uscc, ...terms }, ['type', 'number', 'holder', 'validFrom', 'validTo', 'content']),
    AmendDocument: object({ expectedVersion: integer(1, 9998), ...terms }, ['expectedVersion', 'validFrom', 'validTo', 'content']),
    Revocation: object({ reason: string({ minLength: 1, maxLength: 500 }) }, ['reason']),
    Document: object({
        type: string({ enum: [...DOCUMENT_TYPES] }), number: documentNumber, version: integer(1, 9999), issuer: agency, holder: uscc,
        status: string({ enum: ['ACTIVE', 'AMENDED', 'REVOKED', 'EXHAUSTED', 'EXPIRED'] }), validFrom: timestamp, validTo: timestamp, summary,
        contentHash: sha256, collection: string(), issuedAt: timestamp, updatedAt: timestamp, transactionId: string(),
        permit: object({
            direction: string({ enum: ['IMPORT', 'EXPORT'] }), useLimit: integer(1, 12), usesCount: integer(0, 12), bulk: { type: 'boolean' },
            goods: array(object({ hsCode, quantity, unit, drawn: integer(0, 2_000_000_000_000) }, ['hsCode', 'quantity', 'unit', 'drawn'])),
        }, ['direction', 'goods', 'useLimit', 'usesCount', 'bulk']),
        revocation: object({ reason: string(), at: timestamp }, ['reason', 'at']),
    }, ['type', 'number', 'version', 'issuer', 'holder', 'status', 'validFrom', 'validTo', 'summary', 'contentHash', 'collection', 'issuedAt', 'updatedAt', 'transactionId']),
    DocumentContent: object({ contentHash: sha256, content: string({ contentEncoding: 'base64' }) }, ['contentHash', 'content']),
    DocumentPage: page('Document'),

    Verify: object({
        declarationNumber, permit: object({ type: string({ enum: [...PERMIT_TYPES] }), number: documentNumber }, ['type', 'number']),
        holder: uscc, direction: string({ enum: ['IMPORT', 'EXPORT'] }), goods: { ...array(goodsLine, 50), minItems: 1 }, declaredAt: timestamp,
        port: string({ pattern: '^[0-9]{4}$' }),
    }, ['declarationNumber', 'permit', 'holder', 'direction', 'goods', 'declaredAt', 'port']),
    Verification: object({
        declarationNumber, permit: object({ type: string({ enum: [...PERMIT_TYPES] }), number: documentNumber, version: integer(1, 9999) }, ['type', 'number']),
        holder: uscc, direction: string({ enum: ['IMPORT', 'EXPORT'] }), goods: array(goodsLine), declaredAt: timestamp, port: string(),
        verdict: string({ enum: ['VALID', 'REJECTED'] }),
        reasons: array(object({ code: string({ enum: [...REASON_CODES] }), detail: string(), line: integer(0, 49) }, ['code', 'detail'])),
        drawdown: array(goodsLine),
        balance: array(object({ hsCode, unit, licensed: quantity, drawn: integer(0, 2_000_000_000_000), remaining: integer(0, 2_000_000_000_000) }, ['hsCode', 'unit', 'licensed', 'drawn', 'remaining'])),
        usesRemaining: integer(0, 12), requestHash: sha256, verifiedAt: timestamp, verifiedBy: agency, transactionId: string(),
        release: object({ reason: string(), at: timestamp, transactionId: string() }, ['reason', 'at', 'transactionId']),
    }, ['declarationNumber', 'permit', 'holder', 'direction', 'goods', 'declaredAt', 'port', 'verdict', 'reasons', 'drawdown', 'balance', 'usesRemaining', 'requestHash', 'verifiedAt', 'verifiedBy', 'transactionId']),

    SendHandoff: object({
        messageId: identifier, recipient: agency, subject: uscc,
        document: object({ type: string({ enum: [...DOCUMENT_TYPES] }), number: documentNumber }, ['type', 'number']),
        payloadHash: sha256, size: integer(0, 1024 ** 4),
    }, ['messageId', 'recipient', 'subject', 'document', 'payloadHash', 'size']),
    Receipt: object({ payloadHash: sha256 }, ['payloadHash']),
    Acknowledgement: object({ decision: string({ enum: ['ACCEPTED', 'REJECTED'] }), reasonCode: code, text: string({ minLength: 1, maxLength: 1000 }) }, ['decision']),
    Retransmission: object({ attempt: integer(1, 1000) }, ['attempt']),
    Cancellation: object({ reason: string({ minLength: 1, maxLength: 500 }) }, ['reason']),
    Handoff: object({
        sender: agency, messageId: identifier, recipient: agency, subject: uscc,
        document: object({ type: string({ enum: [...DOCUMENT_TYPES] }), number: documentNumber }, ['type', 'number']),
        payloadHash: sha256, size: { type: 'integer' }, sentAt: timestamp,
        deadlines: object({ receiptSeconds: { type: 'integer' }, acknowledgementSeconds: { type: 'integer' }, source: string() }, ['receiptSeconds', 'acknowledgementSeconds', 'source']),
        receiptDeadline: timestamp, acknowledgementDeadline: timestamp, retransmissions: { type: 'integer' }, lastRetransmittedAt: timestamp,
        cancellation: object({ reason: string(), at: timestamp, transactionId: string() }, ['reason', 'at', 'transactionId']),
        transactionId: string(), status: string({ enum: ['SENT', 'RECEIVED', 'MISMATCH', 'ACCEPTED', 'REJECTED', 'CANCELLED'] }),
        receipt: object({ payloadHash: sha256, matches: { type: 'boolean' }, at: timestamp, transactionId: string() }, ['payloadHash', 'matches', 'at', 'transactionId']),
        acknowledgement: object({ decision: string({ enum: ['ACCEPTED', 'REJECTED'] }), reasonCode: code, text: string(), at: timestamp, transactionId: string() }, ['decision', 'at', 'transactionId']),
        overdue: { type: 'boolean' },
    }, ['sender', 'messageId', 'recipient', 'subject', 'document', 'payloadHash', 'size', 'sentAt', 'deadlines', 'receiptDeadline', 'acknowledgementDeadline', 'retransmissions', 'transactionId', 'status']),
    HandoffPage: page('Handoff'),

    OpenCase: object({
        caseId: identifier,
        subject: { oneOf: [
            object({ kind: string({ const: 'HANDOFF' }), sender: agency, messageId: identifier }, ['kind', 'sender', 'messageId']),
            object({ kind: string({ const: 'DOCUMENT' }), type: string({ enum: [...DOCUMENT_TYPES] }), number: documentNumber }, ['kind', 'type', 'number']),
        ] },
        reason: string({ enum: ['NOT_RECEIVED', 'CONTENT_MISMATCH', 'SIGNATURE_MISMATCH', 'DATA_ERROR', 'OTHER'] }), statementHash: sha256,
    }, ['caseId', 'subject', 'reason']),
    CaseMessageRequest: object({ sequence: integer(1, 100_000), messageHash: sha256, attachments: { ...array(attachmentDigest, 10), minItems: 1 } }, ['sequence', 'messageHash']),
    Resolution: object({ resolutionCode: code, noteHash: sha256 }, ['resolutionCode']),
    Withdrawal: object({ noteHash: sha256 }, []),
    Case: object({
        caseId: identifier, subject: { type: 'object' }, reason: string(), parties: array(string()), openedBy: string(), openedAt: timestamp,
        statementHash: sha256, status: string({ enum: ['OPEN', 'RESOLVED', 'WITHDRAWN'] }), messageCount: { type: 'integer' },
        outcome: object({ code: string(), by: string(), at: timestamp, transactionId: string(), noteHash: sha256 }, ['code', 'by', 'at', 'transactionId']),
        findings: array(finding), updatedAt: timestamp, transactionId: string(),
    }, ['caseId', 'subject', 'reason', 'parties', 'openedBy', 'openedAt', 'status', 'messageCount', 'updatedAt', 'transactionId']),
    CaseMessage: object({ caseId: identifier, sequence: { type: 'integer' }, author: string(), messageHash: sha256, attachments: array(attachmentDigest), at: timestamp, transactionId: string() }, ['caseId', 'sequence', 'author', 'messageHash', 'at', 'transactionId']),
    AttachmentDigest: attachmentDigest,
    ThreadPost: object({
        text: string({ minLength: 1, maxLength: 10_000 }),
        attachments: array(object({ sha256, name: string({ minLength: 1, maxLength: 255 }) }, ['sha256', 'name']), 10),
    }, ['text']),
    ThreadRead: object({ through: integer(0, 100_000) }, ['through']),
    ThreadMessage: object({
        sequence: integer(1, 100_000), author: string(), at: timestamp, transactionId: string(), messageHash: sha256, text: string(),
        attachments: array(object({ ...attachmentDigest.properties as Record<string, Schema>, name: string() }, ['sha256', 'size', 'mediaType', 'name'])),
        verified: { type: 'boolean', description: 'the text and attachments held are the ones whose digests the ledger holds' }, unread: { type: 'boolean' },
    }, ['sequence', 'author', 'at', 'transactionId', 'messageHash', 'attachments', 'verified', 'unread']),
    Thread: object({
        thread: string(), parties: array(string()), messageCount: integer(0, 100_000), complete: { type: 'boolean', description: 'every message the ledger has is here, verified' },
        readThrough: integer(0, 100_000), messages: array(ref('ThreadMessage')),
    }, ['thread', 'parties', 'messageCount', 'complete', 'readThrough', 'messages']),
    UnreadThread: object({ thread: string(), messageCount: integer(1, 100_000), readThrough: integer(0, 100_000) }, ['thread', 'messageCount', 'readThrough']),
    CasePage: page('Case'),

    RegisterAuthority: object({ authorityId, country: string({ pattern: '^[A-Z]{2}$' }), name: string({ minLength: 1, maxLength: 200 }), contact: email }, ['authorityId', 'country', 'name', 'contact']),
    UpdateAuthority: object({ expectedVersion: integer(1, 999_998), name: string({ minLength: 1, maxLength: 200 }), contact: email }, ['expectedVersion']),
    AddSigner: object({
        certificate: string({ minLength: 1, maxLength: 30_000, description: 'the signing certificate, PEM or DER in base64' }), validFrom: timestamp, validTo: timestamp,
    }, ['certificate']),
    RetireSigner: object({ retiredAt: timestamp, reason: code }, ['reason']),
    Authority: object({
        authorityId, country: string(), name: string(), contact: string(), version: { type: 'integer' }, change: string(), updatedAt: timestamp, updatedBy: string(), transactionId: string(),
        signers: array(object({
            ...signerIdentity, validFrom: timestamp, validTo: timestamp, certificate: string({ contentEncoding: 'base64' }), addedAt: timestamp, addedBy: string(),
            retiredAt: timestamp, retiredReason: string(),
        }, ['fingerprint', 'subject', 'issuer', 'serialNumber', 'notBefore', 'notAfter', 'validFrom', 'validTo', 'certificate', 'addedAt', 'addedBy'])),
    }, ['authorityId', 'country', 'name', 'contact', 'signers', 'version', 'change', 'updatedAt', 'updatedBy', 'transactionId']),
    ForeignCertificate: object({
        authorityId, kind: string({ enum: [...FOREIGN_CERTIFICATE_KINDS] }), number: documentNumber, holder: uscc, signedAt: timestamp, documentHash: sha256,
        signer: object(signerIdentity, Object.keys(signerIdentity)),
        signature: object({ method: string({ enum: Object.keys(SIGNATURE_METHODS) }), signedInfoHash: sha256, verifies: { type: 'boolean' }, problem: string() }, ['method', 'verifies']),
        verdict: string({ enum: ['VERIFIED', 'MISMATCH'] }), findings: array(finding), caseId: identifier, collection: string(),
        receivedBy: agency, receivedAt: timestamp, transactionId: string(),
    }, ['authorityId', 'kind', 'number', 'holder', 'signedAt', 'documentHash', 'signer', 'signature', 'verdict', 'findings', 'collection', 'receivedBy', 'receivedAt', 'transactionId']),
    ForeignCertificatePage: page('ForeignCertificate'),

    DeadlinePolicy: object({
        documentType: string({ enum: [...DOCUMENT_TYPES, '*'] }), sender: string({ enum: [...AGENCIES, '*'] }), recipient: string({ enum: [...AGENCIES, '*'] }),
        receiptSeconds: integer(1, 7_776_000), acknowledgementSeconds: integer(1, 7_776_000),
    }, ['documentType', 'sender', 'recipient', 'receiptSeconds', 'acknowledgementSeconds']),
    DeadlinePolicyRecord: object({
        documentType: string(), sender: string(), recipient: string(), receiptSeconds: { type: 'integer' }, acknowledgementSeconds: { type: 'integer' },
        setBy: string(), setAt: timestamp, transactionId: string(),
    }, ['documentType', 'sender', 'recipient', 'receiptSeconds', 'acknowledgementSeconds', 'setBy', 'setAt', 'transactionId']),

    Trace: object({
        query: object({ declaration: declarationNumber, uscc }, []),
        documents: array(ref('Document')),
        verifications: array(ref('Verification')),
        agencies: array(object({
            agency: string({ enum: [...AGENCIES, ENTERPRISES_MSP] }),
            timeline: array(object({
                at: timestamp, step: string(), status: string(), sender: agency, recipient: agency, messageId: identifier,
                transactionId: string(), blockNumber: { type: 'integer' }, receiptDeadline: timestamp, acknowledgementDeadline: timestamp, overdue: { type: 'boolean' },
            }, ['at', 'step', 'status', 'sender', 'recipient', 'messageId', 'transactionId', 'blockNumber'])),
        }, ['agency', 'timeline'])),
        handoffs: array(ref('Handoff')),
    }, ['query', 'documents', 'verifications', 'agencies', 'handoffs']),

    WebhookRequest: object({
        url: string({ format: 'uri', maxLength: 2000, pattern: '^https?://' }),
        events: { ...array(string({ enum: [...EVENT_NAMES, '*'] }), 30), minItems: 1, uniqueItems: true },
        secret: string({ minLength: 16, maxLength: 200 }),
    }, ['url', 'events']),

    Import: object({
        id: string({ format: 'uuid' }), fileName: string(), format: string({ enum: ['csv', 'xlsx'] }), fileBytes: integer(1, 1_000_000_000_000), fileSha256: sha256,
        mode: string({ enum: ['check', 'submit'], description: 'check: nothing is written to the ledger; submit: the good rows are issued' }),
        status: string({ enum: ['READING', 'CHECKING', 'SUBMITTING', 'DONE', 'FAILED', 'INTERRUPTED'] }),
        organisation: agency, requestedBy: string(), timeZone: string({ pattern: '^[+-][0-9]{2}:[0-9]{2}$' }),
        rows: integer(0, 1_000_000_000), documents: integer(0, 1_000_000_000), processed: integer(0, 1_000_000_000),
        results: object(Object.fromEntries(['PENDING', 'INVALID', 'VALID', 'CREATED', 'UNCHANGED', 'CONFLICT'].map((result) => [result, integer(0, 1_000_000_000)])),
            ['PENDING', 'INVALID', 'VALID', 'CREATED', 'UNCHANGED', 'CONFLICT']),
        error: string(), createdAt: timestamp, finishedAt: timestamp,
    }, ['id', 'format', 'fileBytes', 'fileSha256', 'mode', 'status', 'organisation', 'requestedBy', 'timeZone', 'rows', 'documents', 'processed', 'results', 'createdAt']),
    ImportPage: page('Import'),

    EmailSubscription: object({
        address: string({ minLength: 3, maxLength: 254, description: 'where the mails go' }),
        language: string({ enum: ['en', 'zh'] }),
        topics: { ...array(string({ enum: ['CASE_OPENED', 'CASE_RESOLVED', 'MESSAGE_RECEIVED', 'HANDOFF_REJECTED', 'HANDOFF_OVERDUE', 'PERMIT_EXHAUSTED', 'DOCUMENT_REVOKED'] }), 7), minItems: 1, uniqueItems: true },
    }, ['address', 'language', 'topics']),
    EmailSubscriptionView: object({ address: string(), language: string({ enum: ['en', 'zh'] }), topics: array(string()), updatedAt: timestamp }, ['address', 'language', 'topics', 'updatedAt']),
    EmailDelivery: object({
        id: { type: 'integer' }, subject: string(), notifications: { type: 'integer' }, status: string({ enum: ['PENDING', 'SENT', 'DEAD'] }), attempts: { type: 'integer' },
        nextAttemptAt: timestamp, lastError: nullable(string()), createdAt: timestamp, sentAt: nullable(timestamp),
    }, ['id', 'subject', 'notifications', 'status', 'attempts', 'nextAttemptAt', 'lastError', 'createdAt', 'sentAt']),

    Declaration: object({
        number: declarationNumber, status: string(), issuedAt: timestamp,
        handoffs: array(object({ agency, messageId: string(), status: string(), sentAt: timestamp, overdue: { type: 'boolean' } }, ['agency', 'messageId', 'status', 'sentAt', 'overdue'])),
    }, ['number', 'status', 'issuedAt', 'handoffs']),
    DeclarationPage: page('Declaration'),

    Favourites: object({
        items: array(object({
            label: string({ minLength: 1, maxLength: 80 }),
            target: string({ pattern: '^#/[a-z]+(/[^\\s]*)?(\\?[^\\s]*)?$', maxLength: 500, description: 'a console route with its filters, e.g. #/unconfirmed?recipient=TaxMSP&overdue=true' }),
        }, ['label', 'target']), 30),
    }, ['items']),

    AuditReplayRequest: object({
        toBlock: { type: 'integer', minimum: 0, maximum: 1_000_000_000_000 },
        asOf: string({ format: 'date-time', maxLength: 40 }),
    }, []),

    Health: object({ status: string({ enum: ['ok', 'unavailable'] }), checks: { type: 'object' } }, ['status']),
};

export { ref };
export type { Schema };
