import type { CaseMessage, CaseRecord } from '@counterfoil/chaincode';
import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import { partyOf, seesEverything } from '../auth/principal';
import { listCases } from '../queries/records';
import { pageLimit } from '../queries/cursor';
import { evaluateAs, type Services, submitAs } from '../services';
import { PARAMETERS } from './parameters';

export function caseRoutes(services: Services): RouteSpec[] {
    const key = { id: PARAMETERS.caseId };
    const step = (path: string, summary: string, transaction: string, body: string, schema: string): RouteSpec => ({
        method: 'post', path: `/v1/cases/{id}/${path}`, tag: 'Cases', params: key, body, summary,
        responses: { 200: { description: 'The result', schema } },
        handler: async ({ principal, params, body: request }) => ({
            status: 200, body: (await submitAs(services, principal, 'cases', transaction, { caseId: params.id, ...(request as object) })).record,
        }),
    });
    return [
        {
            method: 'post', path: '/v1/cases', tag: 'Cases', body: 'OpenCase',
            summary: 'Open a case on a handoff or a document (a party to it, or reconciliation)',
            responses: { 201: { description: 'The case (or the identical one opened before under this id)', schema: 'Case' } },
            handler: async ({ principal, body }) => ({ status: 201, body: (await submitAs<CaseRecord>(services, principal, 'cases', 'Open', body)).record }),
        },
        {
            method: 'get', path: '/v1/cases/{id}', tag: 'Cases', params: key, summary: 'Read a case (its parties and auditors only)',
            responses: { 200: { description: 'The case', schema: 'Case' } },
            handler: async ({ principal, params }) => ({ status: 200, body: await evaluateAs<CaseRecord>(services, principal, 'cases', 'Get', { caseId: params.id }) }),
        },
        step('messages', 'Add a message to the thread (its hash; the text stays with the parties)', 'AddMessage', 'CaseMessageRequest', 'CaseMessage'),
        step('resolution', 'Resolve the case with a resolution code (an agency party, or reconciliation)', 'Resolve', 'Resolution', 'Case'),
        step('withdrawal', 'Withdraw the case (the party that opened it)', 'Withdraw', 'Withdrawal', 'Case'),
        {
            method: 'get', path: '/v1/cases', tag: 'Cases',
            query: { status: { type: 'string', enum: ['OPEN', 'RESOLVED', 'WITHDRAWN'] }, party: { type: 'string', pattern: '^([A-Za-z]+MSP|[0-9A-HJ-NPQRTUWXY]{18})$' }, cursor: PARAMETERS.cursor, limit: PARAMETERS.limit },
            summary: 'List cases the caller is party to (auditors: any party)',
            responses: { 200: { description: 'A page of cases', schema: 'CasePage' } },
            handler: async ({ principal, query }) => {
                const own = partyOf(principal);
                if (query.party !== undefined && query.party !== own && !seesEverything(principal)) {
                    throw new Problem('FORBIDDEN', `${own} may list only its own cases`, 'party');
                }
                const party = seesEverything(principal) ? query.party : own;
                return { status: 200, body: await listCases(services.pool, { party, status: query.status, cursor: query.cursor, limit: pageLimit(query.limit) }) };
            },
        },
        {
            method: 'get', path: '/v1/cases/{id}/messages', tag: 'Cases', params: key, summary: 'The case\'s thread: authors and message hashes',
            responses: { 200: { description: 'Messages in order', schema: { type: 'array', items: { $ref: '#/components/schemas/CaseMessage' } } } },
            handler: async ({ principal, params }) => {
                const page = await evaluateAs<{ records: CaseMessage[] }>(services, principal, 'cases', 'Messages', { caseId: params.id, pageSize: 200 });
                return { status: 200, body: page.records };
            },
        },
        {
            method: 'post', path: '/v1/deadline-policies', tag: 'Policies', body: 'DeadlinePolicy',
            summary: 'Set receipt and acknowledgement deadlines for a document type and agency pair (admins)',
            responses: { 200: { description: 'The policy', schema: 'DeadlinePolicyRecord' } },
            handler: async ({ principal, body }) => ({ status: 200, body: (await submitAs(services, principal, 'policies', 'SetDeadlines', body)).record }),
        },
    ];
}
