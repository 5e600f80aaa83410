import { AGENCIES, DOCUMENT_TYPES } from '@counterfoil/chaincode';
import { Problem } from '../http/problem';
import type { Principal } from '../auth/principal';

/** Path and query parameter schemas shared by the routes. */
export const PARAMETERS = {
    documentType: { type: 'string', enum: [...DOCUMENT_TYPES] },
    documentNumber: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$' },
    declaration: { type: 'string', pattern: '^[0-9]{18}$' },
    agency: { type: 'string', enum: [...AGENCIES] },
    messageId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' },
    caseId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' },
    uscc: { type: 'string', pattern: '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$' },
    version: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' },
    cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,512}$', description: 'the nextCursor of the previous page' },
    limit: { type: 'string', pattern: '^([1-9]|[1-9][0-9]|1[0-9][0-9]|200)$', description: 'page size, 1 to 200 (default 50)' },
    boolean: { type: 'string', enum: ['true', 'false'] },
    dateTime: { type: 'string', format: 'date-time' },
} as const;

/** A content field arrives as base64; the chaincode receives the bytes as transient data. */
export function transientContent(body: { content?: string }): Record<string, Uint8Array> {
    const content = Buffer.from(body.content ?? '', 'base64');
    if (content.length === 0 || content.toString('base64').replace(/=+$/, '') !== (body.content ?? '').replace(/=+$/, '')) {
        throw new Problem('INVALID_ARGUMENT', 'content must be non-empty standard base64', 'content');
    }
    return { content };
}

export function withoutContent<T extends { content?: string }>(body: T): Omit<T, 'content'> {
    const { content: _content, ...rest } = body;
    return rest;
}

export function requireAgencyOrAuditor(principal: Principal, action: string): void {
    if (principal.uscc) {
        throw new Problem('FORBIDDEN', `enterprises may not ${action}`, 'authorization');
    }
}
