import type { VerificationRecord } from '@counterfoil/chaincode';
import type { RouteSpec } from '../openapi/api';
import { evaluateAs, type Services, submitAs } from '../services';
import { PARAMETERS } from './parameters';

export function verificationRoutes(services: Services): RouteSpec[] {
    const key = { declaration: PARAMETERS.declaration, permit: PARAMETERS.documentNumber };
    return [
        {
            method: 'post', path: '/v1/verifications', tag: 'Verifications', body: 'Verify',
            summary: 'Verify a permit quoted on a declaration (customs only); a valid one draws the quantity and a use',
            responses: { 200: { description: 'The verdict with every reason, the balance and uses left', schema: 'Verification' } },
            handler: async ({ principal, body }) => ({ status: 200, body: (await submitAs<VerificationRecord>(services, principal, 'verifications', 'Verify', body)).record }),
        },
        {
            method: 'post', path: '/v1/verifications/{declaration}/{permit}/release', tag: 'Verifications', params: key, body: 'Revocation',
            summary: 'Release a cancelled declaration\'s drawdown, exactly once (customs only)',
            responses: { 200: { description: 'The released verification', schema: 'Verification' } },
            handler: async ({ principal, params, body }) => ({
                status: 200,
                body: (await submitAs<VerificationRecord>(services, principal, 'verifications', 'Release', {
                    declarationNumber: params.declaration, permitNumber: params.permit, reason: (body as { reason: string }).reason,
                })).record,
            }),
        },
        {
            method: 'get', path: '/v1/verifications/{declaration}/{permit}', tag: 'Verifications', params: key,
            summary: 'Read a verification',
            responses: { 200: { description: 'The verification', schema: 'Verification' } },
            handler: async ({ principal, params }) => ({
                status: 200,
                body: await evaluateAs<VerificationRecord>(services, principal, 'verifications', 'Get', { declarationNumber: params.declaration, permitNumber: params.permit }),
            }),
        },
    ];
}
