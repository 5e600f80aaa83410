import type { AuthorityRecord, ForeignCertificateRecord } from '@counterfoil/chaincode';
import { partyOf } from '../auth/principal';
import { certificateDer, receiveSignedCertificate } from '../certificates/receive';
import { Problem } from '../http/problem';
import type { RouteSpec } from '../openapi/api';
import { decodeCursor, encodeCursor, pageLimit } from '../queries/cursor';
import { evaluateAs, type Services, submitAs } from '../services';
import { PARAMETERS } from './parameters';

const AUTHORITY_ID = { type: 'string', pattern: '^[A-Z]{2}-[A-Z0-9]{1,16}(?:-[A-Z0-9]{1,16}){0,2}$' } as const;

/** The registry of foreign authorities (customs' administrators keep it; everyone reads it) and the signed certificates received from them. */
export function foreignRoutes(services: Services): RouteSpec[] {
    const authority = { authorityId: AUTHORITY_ID };
    const registrar = (path: string, summary: string, transaction: string, body: string, status: 200 | 201, extra: (params: Readonly<Record<string, string>>) => Record<string, unknown> = () => ({}),
        shape: (request: Record<string, unknown>) => Record<string, unknown> = (request) => request): RouteSpec => ({
        method: 'post', path, tag: 'Foreign certificates', params: { ...authority, ...(path.includes('{fingerprint}') ? { fingerprint: { type: 'string', pattern: '^[0-9a-f]{64}$' } } : {}) },
        body, summary, responses: { [status]: { description: 'The authority as it now stands', schema: 'Authority' } },
        handler: async ({ principal, params, body: request }) => ({
            status, body: (await submitAs<AuthorityRecord>(services, principal, 'authorities', transaction, { ...shape(request as Record<string, unknown>), authorityId: params.authorityId, ...extra(params) })).record,
        }),
    });
    return [
        {
            method: 'get', path: '/v1/authorities', tag: 'Foreign certificates', summary: 'The foreign issuing authorities on file, with their signing certificates',
            responses: { 200: { description: 'Authorities by id', schema: { type: 'array', items: { $ref: '#/components/schemas/Authority' } } } },
            handler: async () => {
                const { rows } = await services.pool.query<{ record: AuthorityRecord }>('SELECT record FROM foreign_authorities ORDER BY authority_id');
                return { status: 200, body: rows.map((row) => row.record) };
            },
        },
        {
            method: 'post', path: '/v1/authorities', tag: 'Foreign certificates', body: 'RegisterAuthority',
            summary: 'Put a foreign issuing authority on file (customs\' administrators)',
            responses: { 201: { description: 'The authority (or the same one registered before)', schema: 'Authority' } },
            handler: async ({ principal, body }) => ({ status: 201, body: (await submitAs<AuthorityRecord>(services, principal, 'authorities', 'Register', body)).record }),
        },
        {
            method: 'get', path: '/v1/authorities/{authorityId}', tag: 'Foreign certificates', params: authority, summary: 'A foreign authority as it stands',
            responses: { 200: { description: 'The authority', schema: 'Authority' } },
            handler: async ({ principal, params }) => ({ status: 200, body: await evaluateAs<AuthorityRecord>(services, principal, 'authorities', 'Get', { authorityId: params.authorityId }) }),
        },
        {
            method: 'get', path: '/v1/authorities/{authorityId}/history', tag: 'Foreign certificates', params: authority,
            summary: 'Every version of a foreign authority, oldest first: who changed what, when',
            responses: { 200: { description: 'Versions', schema: { type: 'array', items: { $ref: '#/components/schemas/Authority' } } } },
            handler: async ({ principal, params }) => {
                const versions: AuthorityRecord[] = [];
                let bookmark = '';
                do {
                    const page = await evaluateAs<{ records: AuthorityRecord[]; bookmark: string }>(services, principal, 'authorities', 'History', { authorityId: params.authorityId, pageSize: 200, bookmark });
                    versions.push(...page.records);
                    bookmark = page.bookmark;
                } while (bookmark && versions.length < 10_000);
                return { status: 200, body: versions };
            },
        },
        registrar('/v1/authorities/{authorityId}/changes', 'Change an authority\'s name or contact, at the version read (customs\' administrators)', 'Update', 'UpdateAuthority', 200),
        registrar('/v1/authorities/{authorityId}/signers', 'Put a signing certificate (PEM or base64 DER) on file for an authority, with the window its signatures are accepted in', 'AddSigner', 'AddSigner', 201,
            undefined, (request) => ({ ...request, certificate: certificateDer(String(request.certificate)) })),
        registrar('/v1/authorities/{authorityId}/signers/{fingerprint}/retirement', 'Retire a signing certificate: what it signs from retiredAt (default now) on is not accepted', 'RetireSigner', 'RetireSigner', 200,
            (params) => ({ fingerprint: params.fingerprint })),
        {
            method: 'post', path: '/v1/foreign-certificates', tag: 'Foreign certificates',
            rawBody: { contentType: ['application/xml', 'text/xml'], description: 'The certificate as its authority signed it: XML with one enveloped XML-DSig signature, the signer\'s certificate in KeyInfo' },
            summary: 'Receive a signed certificate from a foreign authority (customs, inspection): its signature and signer are checked and the verdict recorded; a mismatch opens a SIGNATURE_MISMATCH case',
            responses: { 201: { description: 'The verdict (the first one, for a certificate received before)', schema: 'ForeignCertificate' } },
            handler: async ({ principal, body }) => {
                const { record } = await receiveSignedCertificate(body as Buffer, (request, transient) =>
                    submitAs<ForeignCertificateRecord>(services, principal, 'foreign-certificates', 'Receive', request, transient));
                return { status: 201, body: record };
            },
        },
        {
            method: 'get', path: '/v1/foreign-certificates', tag: 'Foreign certificates',
            query: { authority: AUTHORITY_ID, holder: PARAMETERS.uscc, verdict: { type: 'string', enum: ['VERIFIED', 'MISMATCH'] }, cursor: PARAMETERS.cursor, limit: PARAMETERS.limit },
            summary: 'Foreign certificates received, newest first (an enterprise: those naming it as consignee)',
            responses: { 200: { description: 'A page of certificates', schema: 'ForeignCertificatePage' } },
            handler: async ({ principal, query }) => {
                const own = partyOf(principal);
                if (principal.uscc && query.holder !== undefined && query.holder !== own) {
                    throw new Problem('FORBIDDEN', `${own} may list only the certificates naming it`, 'holder');
                }
                const holder = principal.uscc ? own : query.holder;
                const limit = pageLimit(query.limit);
                const after = decodeCursor(query.cursor, ['time', 'text', 'text', 'text']);
                const { rows } = await services.pool.query<{ record: ForeignCertificateRecord; received_at: Date; authority_id: string; number: string; document_hash: string }>(
                    `SELECT record, received_at, authority_id, number, document_hash FROM foreign_certificates
                      WHERE ($1::text IS NULL OR authority_id = $1::text) AND ($2::text IS NULL OR holder = $2::text) AND ($3::text IS NULL OR verdict = $3::text)
                        AND ($4::timestamptz IS NULL OR (received_at, authority_id, number, document_hash) < ($4::timestamptz, $5::text, $6::text, $7::text))
                      ORDER BY received_at DESC, authority_id DESC, number DESC, document_hash DESC LIMIT $8::integer`,
                    [query.authority ?? null, holder ?? null, query.verdict ?? null, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, after?.[3] ?? null, limit + 1]);
                const page = rows.slice(0, limit);
                const last = page.at(-1);
                return {
                    status: 200,
                    body: {
                        items: page.map((row) => row.record),
                        nextCursor: rows.length > limit && last ? encodeCursor([last.received_at.toISOString(), last.authority_id, last.number, last.document_hash]) : null,
                    },
                };
            },
        },
        {
            method: 'get', path: '/v1/foreign-certificates/{authorityId}/{number}', tag: 'Foreign certificates', params: { ...authority, number: PARAMETERS.documentNumber },
            summary: 'Every receipt of one certificate number from an authority, with its verdict (agencies, auditors, and the consignee)',
            responses: { 200: { description: 'Receipts, usually one', schema: { type: 'array', items: { $ref: '#/components/schemas/ForeignCertificate' } } } },
            handler: async ({ principal, params }) => ({
                status: 200, body: await evaluateAs<ForeignCertificateRecord[]>(services, principal, 'foreign-certificates', 'Get', { authorityId: params.authorityId, number: params.number }),
            }),
        },
    ];
}
