import type { DocumentRecord } from '@counterfoil/chaincode';
import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import { listDocuments } from '../queries/records';
import { pageLimit } from '../queries/cursor';
import { evaluateAs, type Services, submitAs } from '../services';
import { PARAMETERS, transientContent, withoutContent } from './parameters';

type Body = Record<string, unknown> & { content?: string };

export function documentRoutes(services: Services): RouteSpec[] {
    const key = { type: PARAMETERS.documentType, number: PARAMETERS.documentNumber };
    return [
        {
            method: 'post', path: '/v1/documents', tag: 'Documents', body: 'IssueDocument',
            summary: 'Issue a document (licences: commerce; certificates: inspection; export declarations: customs)',
            responses: { 201: { description: 'Issued (or the identical document issued before)', schema: 'Document' } },
            handler: async ({ principal, body }) => {
                const request = body as Body;
                const { record } = await submitAs<DocumentRecord>(services, principal, 'documents', 'Issue', withoutContent(request), transientContent(request));
                return { status: 201, body: record };
            },
        },
        {
            method: 'get', path: '/v1/documents/{type}/{number}', tag: 'Documents', params: key, query: { version: PARAMETERS.version },
            summary: 'Read a document from the ledger (the current version, or ?version=)',
            responses: { 200: { description: 'The document', schema: 'Document' } },
            handler: async ({ principal, params, query }) => ({
                status: 200,
                body: await evaluateAs<DocumentRecord>(services, principal, 'documents', 'Get', {
                    type: params.type, number: params.number, ...(query.version ? { version: Number(query.version) } : {}),
                }),
            }),
        },
        {
            method: 'get', path: '/v1/documents/{type}/{number}/content', tag: 'Documents', params: key, query: { version: PARAMETERS.version },
            summary: 'Read the confidential content (members of the document\'s private data collection only)',
            responses: { 200: { description: 'The content, base64', schema: 'DocumentContent' } },
            handler: async ({ principal, params, query }) => ({
                status: 200,
                body: await evaluateAs(services, principal, 'documents', 'GetContent', {
                    type: params.type, number: params.number, ...(query.version ? { version: Number(query.version) } : {}),
                }),
            }),
        },
        {
            method: 'post', path: '/v1/documents/{type}/{number}/amendments', tag: 'Documents', params: key, body: 'AmendDocument',
            summary: 'Amend a document into a new version (the issuer only)',
            responses: { 201: { description: 'The new version', schema: 'Document' } },
            handler: async ({ principal, params, body }) => {
                const request = body as Body;
                const { record } = await submitAs<DocumentRecord>(services, principal, 'documents', 'Amend',
                    { ...withoutContent(request), type: params.type, number: params.number }, transientContent(request));
                return { status: 201, body: record };
            },
        },
        {
            method: 'post', path: '/v1/documents/{type}/{number}/revocation', tag: 'Documents', params: key, body: 'Revocation',
            summary: 'Revoke a document (the issuer only)',
            responses: { 200: { description: 'The revoked document', schema: 'Document' } },
            handler: async ({ principal, params, body }) => {
                const { record } = await submitAs<DocumentRecord>(services, principal, 'documents', 'Revoke', { ...(body as Body), type: params.type, number: params.number });
                return { status: 200, body: record };
            },
        },
        {
            method: 'get', path: '/v1/documents', tag: 'Documents',
            query: { holder: PARAMETERS.uscc, issuer: PARAMETERS.agency, type: PARAMETERS.documentType, cursor: PARAMETERS.cursor, limit: PARAMETERS.limit },
            summary: 'List documents by holder, issuer and type (enterprises: their own only)',
            responses: { 200: { description: 'A page of documents', schema: 'DocumentPage' } },
            handler: async ({ principal, query }) => {
                if (principal.uscc && query.holder !== undefined && query.holder !== principal.uscc) {
                    throw new Problem('FORBIDDEN', `enterprise ${principal.uscc} may list only its own documents`, 'holder');
                }
                const holder = principal.uscc ?? query.holder;
                return { status: 200, body: await listDocuments(services.pool, { holder, issuer: query.issuer, type: query.type, cursor: query.cursor, limit: pageLimit(query.limit) }) };
            },
        },
    ];
}
