import { receiveSignedCertificate } from '../gateway/certificates/receive';
import { type ConflictRetry, DEFAULT_CONFLICT_RETRY, LedgerError, type LedgerErrorCode, type Ledger, type SigningIdentity, submitRetryingConflicts } from '../network/ledger';

/** The ledger writes an adapter makes; each is idempotent on the ledger. */
export interface LedgerClient {
    issueDocument(request: Readonly<Record<string, unknown>>, content: Buffer): Promise<void>;
    verify(request: Readonly<Record<string, unknown>>): Promise<void>;
    send(request: Readonly<Record<string, unknown>>): Promise<void>;
    recordReceipt(request: Readonly<{ sender: string; messageId: string; payloadHash: string }>): Promise<void>;
    acknowledge(request: Readonly<{ sender: string; messageId: string; decision: string; reasonCode?: string; text?: string }>): Promise<void>;
    /** A foreign authority's signed certificate, as received: its signature is examined, and the verdict recorded. */
    receiveForeignCertificate(xml: Buffer): Promise<void>;
    /** `sender` is the adapter's own agency: only a sender retransmits. */
    retransmit(request: Readonly<{ sender: string; messageId: string; attempt: number }>): Promise<void>;
}

/** In the hub's own process: straight to the ledger, as the adapter's identity. */
export function directLedgerClient(ledger: Ledger, identity: () => Promise<SigningIdentity>, retry: () => ConflictRetry = () => DEFAULT_CONFLICT_RETRY): LedgerClient {
    const submit = async (contract: string, transaction: string, request: unknown, transient?: Record<string, Uint8Array>): Promise<void> => {
        await submitRetryingConflicts(ledger, { identity: await identity(), contract, transaction, arguments: [JSON.stringify(request)], transient }, retry());
    };
    return {
        issueDocument: (request, content) => submit('documents', 'Issue', request, { content }),
        verify: (request) => submit('verifications', 'Verify', request),
        send: (request) => submit('handoffs', 'Send', request),
        recordReceipt: (request) => submit('handoffs', 'RecordReceipt', request),
        acknowledge: (request) => submit('handoffs', 'Acknowledge', request),
        retransmit: ({ messageId, attempt }) => submit('handoffs', 'Retransmit', { messageId, attempt }),
        receiveForeignCertificate: (xml) => receiveSignedCertificate(xml, (request, transient) => submit('foreign-certificates', 'Receive', request, transient)),
    };
}

const RATE_LIMITED_ATTEMPTS = 5;

const CODES: readonly LedgerErrorCode[] = ['INVALID_ARGUMENT', 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'FAILED_PRECONDITION', 'UNAUTHENTICATED', 'ABORTED', 'UNAVAILABLE'];

/**
 * From another process: through the gateway's REST API with a bearer token. Problem documents
 * come back as LedgerErrors with the same codes, so the adapter tells permanent refusals from
 * passing trouble the same way in both cases.
 */
export function httpLedgerClient(gatewayUrl: string, token: () => Promise<string>, timeoutMs = 30_000): LedgerClient {
    const post = async (path: string, body: unknown, contentType = 'application/json'): Promise<void> => {
        let response: Response;
        for (let attempt = 1; ; attempt++) {
            try {
                response = await fetch(`${gatewayUrl}${path}`, {
                    method: 'POST', body: Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
                    headers: { 'Content-Type': contentType, Authorization: `Bearer ${await token()}` },
                });
            } catch (error) {
                throw new LedgerError({ code: 'UNAVAILABLE', message: `the gateway is unreachable: ${(error as Error).message}`, cause: error });
            }
            // Over the gateway's rate limit: wait as long as it says, a few times, before giving the run up.
            if (response.status !== 429 || attempt === RATE_LIMITED_ATTEMPTS) {
                break;
            }
            await response.body?.cancel();
            const seconds = Math.min(Number(response.headers.get('retry-after')) || 1, 30);
            await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        }
        if (response.ok) {
            await response.body?.cancel();
            return;
        }
        const problem = await response.json().catch(() => ({})) as { code?: string; detail?: string; field?: string };
        const code = CODES.includes(problem.code as LedgerErrorCode) ? problem.code as LedgerErrorCode : response.status >= 500 || response.status === 429 ? 'UNAVAILABLE' : 'INTERNAL';
        throw new LedgerError({ code, field: problem.field, message: problem.detail ?? `the gateway answered ${response.status}` });
    };
    const handoff = (sender: string, messageId: string, step: string): string => `/v1/handoffs/${encodeURIComponent(sender)}/${encodeURIComponent(messageId)}/${step}`;
    return {
        issueDocument: (request, content) => post('/v1/documents', { ...request, content: content.toString('base64') }),
        verify: (request) => post('/v1/verifications', request),
        send: (request) => post('/v1/handoffs', request),
        recordReceipt: ({ sender, messageId, payloadHash }) => post(handoff(sender, messageId, 'receipt'), { payloadHash }),
        acknowledge: ({ sender, messageId, ...decision }) => post(handoff(sender, messageId, 'acknowledgement'), decision),
        retransmit: ({ sender, messageId, attempt }) => post(handoff(sender, messageId, 'retransmissions'), { attempt }),
        receiveForeignCertificate: (xml) => post('/v1/foreign-certificates', xml, 'application/xml'),
    };
}
