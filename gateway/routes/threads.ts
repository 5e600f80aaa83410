import { ATTACHMENT_TYPES } from '@counterfoil/chaincode';
import type { RouteSpec } from '../openapi/api';
import { type AttachmentRef, type ThreadRef, ThreadService } from '../threads/threads';
import type { Services } from '../services';
import { PARAMETERS } from './parameters';

/** `filename*` (RFC 6266, RFC 8187) for any name, with a plain ASCII `filename` for old clients. */
export function attachmentDisposition(name: string): string {
    const plain = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
    return `attachment; filename="${plain}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

export function threadRoutes(services: Services): RouteSpec[] {
    const threads = new ThreadService(services);
    const subjects: { path: string; params: RouteSpec['params']; of: (params: Readonly<Record<string, string>>) => ThreadRef; what: string }[] = [
        { path: '/v1/cases/{id}/thread', params: { id: PARAMETERS.caseId }, of: (params) => ({ kind: 'case', caseId: params.id as string }), what: 'a case (its parties)' },
        {
            path: '/v1/documents/{type}/{number}/thread', params: { type: PARAMETERS.documentType, number: PARAMETERS.documentNumber },
            of: (params) => ({ kind: 'document', type: params.type as string, number: params.number as string }),
            what: 'a document (its holder and the agencies it is for: a declaration\'s customs, tax and forex)',
        },
    ];
    return [
        {
            method: 'post', path: '/v1/attachments', tag: 'Threads',
            rawBody: { contentType: 'application/octet-stream', description: 'The file (PDF, PNG, JPEG, TIFF, GIF or WebP, read from its bytes), at most 25 MiB', stream: true },
            summary: 'Upload a file to attach to a message: answers its digest, which only the uploader may then attach',
            responses: { 201: { description: 'The stored file\'s digest, size and kind', schema: 'AttachmentDigest' } },
            handler: async ({ principal, request }) => {
                const declared = Number(request.get('content-length'));
                return { status: 201, body: await threads.upload(principal, request, Number.isFinite(declared) ? declared : undefined) };
            },
        },
        {
            method: 'get', path: '/v1/threads/unread', tag: 'Threads',
            summary: 'The caller\'s threads with messages it has not read (its party\'s cases and documents)',
            responses: { 200: { description: 'Threads with unread messages', schema: { type: 'array', items: { $ref: '#/components/schemas/UnreadThread' } } } },
            handler: async ({ principal }) => ({ status: 200, body: await threads.unread(principal) }),
        },
        ...subjects.flatMap((subject): RouteSpec[] => [
            {
                method: 'get', path: subject.path, tag: 'Threads', params: subject.params,
                summary: `The thread of ${subject.what} and auditors: each message's text and attachments, checked against the ledger's digests`,
                responses: { 200: { description: 'The thread', schema: 'Thread' } },
                handler: async ({ principal, params }) => ({ status: 200, body: await threads.read(principal, subject.of(params)) }),
            },
            {
                method: 'post', path: subject.path, tag: 'Threads', params: subject.params, body: 'ThreadPost',
                summary: `Write in the thread of ${subject.what}: the text and files stay here, their digests go on the ledger`,
                responses: { 201: { description: 'The message', schema: 'ThreadMessage' } },
                handler: async ({ principal, params, body }) => {
                    const request = body as { text: string; attachments?: AttachmentRef[] };
                    return { status: 201, body: await threads.post(principal, subject.of(params), request) };
                },
            },
            {
                method: 'post', path: `${subject.path}/read`, tag: 'Threads', params: subject.params, body: 'ThreadRead',
                summary: 'Mark the thread read through a message, for the caller (never back)',
                responses: { 200: { description: 'Read through', schema: 'ThreadRead' } },
                handler: async ({ principal, params, body }) => ({
                    status: 200, body: { through: await threads.markRead(principal, subject.of(params), (body as { through: number }).through) },
                }),
            },
            {
                method: 'get', path: `${subject.path}/{sequence}/attachments/{sha256}`, tag: 'Threads',
                params: { ...subject.params, sequence: { type: 'string', pattern: '^[1-9][0-9]{0,5}$' }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
                summary: 'An attachment of a message, as a download: its kind as read from its bytes, never shown in the page',
                responses: { 200: { description: 'The file', schema: { type: 'string', format: 'binary' }, contentType: [...ATTACHMENT_TYPES] } },
                handler: async ({ principal, params, response }) => {
                    const file = await threads.attachment(principal, subject.of(params), Number(params.sequence), params.sha256 as string);
                    response.status(200);
                    response.setHeader('Content-Type', file.mediaType);
                    response.setHeader('Content-Disposition', attachmentDisposition(file.name));
                    // What a party uploaded never runs in another party's browser: a download, not sniffed, sandboxed.
                    response.setHeader('X-Content-Type-Options', 'nosniff');
                    response.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
                    response.setHeader('Cache-Control', 'private, no-store');
                    response.end(file.bytes);
                    return { handled: true };
                },
            },
        ]),
    ];
}
