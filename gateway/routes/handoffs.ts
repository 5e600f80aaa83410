import type { Handoff } from '@counterfoil/chaincode';
import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import { seesEverything } from '../auth/principal';
import { listHandoffs } from '../queries/handoffs';
import { pageLimit } from '../queries/cursor';
import { evaluateAs, type Services, submitAs } from '../services';
import { PARAMETERS } from './parameters';

export function handoffRoutes(services: Services): RouteSpec[] {
    const key = { sender: PARAMETERS.agency, messageId: PARAMETERS.messageId };
    const step = (path: string, summary: string, transaction: string, body: string): RouteSpec => ({
        method: 'post', path: `/v1/handoffs/{sender}/{messageId}/${path}`, tag: 'Handoffs', params: key, body, summary,
        responses: { 200: { description: 'The handoff after this step', schema: 'Handoff' } },
        handler: async ({ principal, params, body: request }) => {
            const own = transaction === 'Retransmit' || transaction === 'Cancel';
            if (own && params.sender !== principal.org) {
                throw new Problem('FORBIDDEN', `only ${params.sender} may ${path === 'cancellation' ? 'cancel' : 'retransmit'} its handoffs`, 'sender');
            }
            const identity = own ? {} : { sender: params.sender };
            const { record } = await submitAs<Handoff>(services, principal, 'handoffs', transaction, { ...identity, messageId: params.messageId, ...(request as object) });
            return { status: 200, body: record };
        },
    });
    return [
        {
            method: 'post', path: '/v1/handoffs', tag: 'Handoffs', body: 'SendHandoff',
            summary: 'Record that the caller\'s agency sent a document or data record to another agency',
            responses: { 201: { description: 'The handoff (or the identical one sent before under this message id)', schema: 'Handoff' } },
            handler: async ({ principal, body }) => ({ status: 201, body: (await submitAs<Handoff>(services, principal, 'handoffs', 'Send', body)).record }),
        },
        {
            method: 'get', path: '/v1/handoffs/{sender}/{messageId}', tag: 'Handoffs', params: key,
            summary: 'Read a handoff from the ledger',
            responses: { 200: { description: 'The handoff', schema: 'Handoff' } },
            handler: async ({ principal, params }) => ({ status: 200, body: await evaluateAs<Handoff>(services, principal, 'handoffs', 'Get', params) }),
        },
        step('receipt', 'Record receipt with the hash of what arrived (the recipient only)', 'RecordReceipt', 'Receipt'),
        step('acknowledgement', 'Accept or reject what arrived (the recipient only)', 'Acknowledge', 'Acknowledgement'),
        step('retransmissions', 'Record a retransmission, numbered by attempt (the sender only)', 'Retransmit', 'Retransmission'),
        step('cancellation', 'Cancel a handoff not yet decided (the sender only)', 'Cancel', 'Cancellation'),
        {
            method: 'get', path: '/v1/handoffs', tag: 'Handoffs',
            query: {
                status: { type: 'string', enum: ['SENT', 'RECEIVED', 'MISMATCH', 'ACCEPTED', 'REJECTED', 'CANCELLED'] },
                overdue: { ...PARAMETERS.boolean, description: 'true: only handoffs past the deadline they are waiting on' },
                sender: PARAMETERS.agency, recipient: PARAMETERS.agency, subject: PARAMETERS.uscc,
                from: { ...PARAMETERS.dateTime, description: 'sent at or after' }, to: { ...PARAMETERS.dateTime, description: 'sent before' },
                cursor: PARAMETERS.cursor, limit: PARAMETERS.limit,
            },
            summary: 'List handoffs the caller may see, newest first',
            responses: { 200: { description: 'A page of handoffs', schema: 'HandoffPage' } },
            handler: async ({ principal, query }) => {
                if (principal.uscc && query.subject !== undefined && query.subject !== principal.uscc) {
                    throw new Problem('FORBIDDEN', `enterprise ${principal.uscc} may list only handoffs of its own data`, 'subject');
                }
                const agencyView = !principal.uscc && !seesEverything(principal);
                if (agencyView && query.sender && query.recipient && query.sender !== principal.org && query.recipient !== principal.org) {
                    throw new Problem('FORBIDDEN', `${principal.org} may list only handoffs it sends or receives`, 'sender');
                }
                return {
                    status: 200,
                    body: await listHandoffs(services.pool, {
                        status: query.status, overdue: query.overdue === undefined ? undefined : query.overdue === 'true',
                        sender: query.sender, recipient: query.recipient, subject: principal.uscc ?? query.subject,
                        from: query.from, to: query.to, party: agencyView ? principal.org : undefined, cursor: query.cursor, limit: pageLimit(query.limit),
                    }),
                };
            },
        },
    ];
}
