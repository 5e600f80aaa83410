import type { RouteSpec } from '../openapi/api';
import { caseSummary, handoffProof, verificationCertificate, verifyProof } from '../pdf/proofs';
import type { StatementSigner } from '../pdf/statement';
import type { Services } from '../services';
import { PARAMETERS } from './parameters';

const PDF = { description: 'A PDF carrying a statement signed by the hub', contentType: 'application/pdf', schema: { type: 'string', format: 'binary' } };

export function proofRoutes(services: Services, signer: StatementSigner): RouteSpec[] {
    const send = (response: Parameters<RouteSpec['handler']>[0]['response'], name: string, bytes: Uint8Array): { handled: true } => {
        response.status(200).type('application/pdf').setHeader('Content-Disposition', `attachment; filename="${name}"`);
        response.end(Buffer.from(bytes));
        return { handled: true };
    };
    return [
        {
            method: 'get', path: '/v1/handoffs/{sender}/{messageId}/proof.pdf', tag: 'Proofs', params: { sender: PARAMETERS.agency, messageId: PARAMETERS.messageId },
            summary: 'Proof of delivery: parties, document, hashes, receipt and acknowledgement with transaction ids and block numbers',
            responses: { 200: PDF },
            handler: async ({ principal, params, response }) => send(response, `proof-${params.messageId}.pdf`,
                await handoffProof(services, signer, principal, params.sender as string, params.messageId as string)),
        },
        {
            method: 'get', path: '/v1/verifications/{declaration}/{permit}/certificate.pdf', tag: 'Proofs', params: { declaration: PARAMETERS.declaration, permit: PARAMETERS.documentNumber },
            summary: 'Certificate of a permit verification: verdict, reasons, drawdown and balance',
            responses: { 200: PDF },
            handler: async ({ principal, params, response }) => send(response, `verification-${params.declaration}.pdf`,
                await verificationCertificate(services, signer, principal, params.declaration as string, params.permit as string)),
        },
        {
            method: 'get', path: '/v1/cases/{id}/summary.pdf', tag: 'Proofs', params: { id: PARAMETERS.caseId },
            summary: 'Summary of a case: parties, thread hashes and outcome',
            responses: { 200: PDF },
            handler: async ({ principal, params, response }) => send(response, `case-${params.id}.pdf`, await caseSummary(services, signer, principal, params.id as string)),
        },
        {
            method: 'post', path: '/v1/proofs/verify', tag: 'Proofs', rawBody: { contentType: 'application/pdf', description: 'A PDF the hub produced' },
            summary: 'Check a PDF the hub produced: authentic or forged, with the reason',
            responses: {
                200: {
                    description: 'The verdict', schema: {
                        type: 'object', additionalProperties: false, required: ['verdict', 'reason'],
                        properties: { verdict: { type: 'string', enum: ['authentic', 'forged'] }, reason: { type: 'string' }, kind: { type: 'string' }, subject: { type: 'object' }, issuedAt: { type: 'string' } },
                    },
                },
            },
            handler: async ({ body }) => ({ status: 200, body: await verifyProof(services, signer, body as Buffer) }),
        },
    ];
}
