import type { RouteSpec } from '../openapi/api';
import { Problem } from '../http/problem';
import { seesEverything } from '../auth/principal';
import type { Services } from '../services';
import { overview } from '../queries/overview';

const PAIR = {
    type: 'object', additionalProperties: false,
    required: ['sender', 'recipient', 'handoffs', 'byStatus', 'confirmed', 'confirmationRate', 'overdue', 'receiptSecondsMedian', 'receiptSecondsMax'],
    properties: {
        sender: { type: 'string' }, recipient: { type: 'string' }, handoffs: { type: 'integer' },
        byStatus: { type: 'object', additionalProperties: { type: 'integer' } },
        confirmed: { type: 'integer', description: 'received or decided' },
        confirmationRate: { type: 'number', description: 'confirmed / handoffs' },
        overdue: { type: 'integer' },
        receiptSecondsMedian: { oneOf: [{ type: 'number' }, { type: 'null' }], description: 'from send to receipt: the lag (within 0.1 s below 10 s, within 1 % above)' },
        receiptSecondsMax: { oneOf: [{ type: 'number' }, { type: 'null' }], description: 'the longest lag (within 0.1 s below 10 s, within 1 % above)' },
    },
};

/**
 * `GET /v1/overview`: the hub at a glance for agencies and auditors — handoffs per agency pair by
 * status, confirmation rate, overdue, the send-to-receipt lag per pair, and handoffs sent per
 * minute over the last hour. An agency sees the pairs it is part of.
 */
export function overviewRoutes(services: Services): RouteSpec[] {
    return [{
        method: 'get', path: '/v1/ledger', tag: 'Overview', summary: 'Who orders the ledger\'s blocks: the embedded ledger, or each validator of the network with its height and whether it is in step',
        responses: {
            200: {
                description: 'The consensus status', schema: {
                    type: 'object', additionalProperties: false, required: ['engine', 'height'],
                    properties: {
                        engine: { type: 'string', enum: ['embedded', 'cometbft'] },
                        height: { type: 'integer', description: 'the last height the hub\'s node committed' },
                        chainId: { type: 'string' },
                        node: { type: 'string', description: 'the validator the hub works through' },
                        validators: {
                            type: 'array', items: {
                                type: 'object', additionalProperties: false, required: ['name', 'inStep'],
                                properties: { name: { type: 'string' }, height: { type: 'integer' }, inStep: { type: 'boolean', description: 'within one height of the hub\'s node' } },
                            },
                        },
                    },
                },
            },
        },
        handler: async ({ principal }) => {
            if (principal.uscc) {
                throw new Problem('FORBIDDEN', 'the ledger\'s status is for agencies and auditors', 'authorization');
            }
            return { status: 200, body: await services.ledger.consensus() };
        },
    }, {
        method: 'get', path: '/v1/overview', tag: 'Overview', summary: 'Handoffs per agency pair, confirmation rate, overdue, lag, and throughput over the last hour',
        responses: {
            200: {
                description: 'The overview', schema: {
                    type: 'object', additionalProperties: false, required: ['pairs', 'totals', 'perMinute', 'overdueByHour', 'openCases'],
                    properties: {
                        pairs: { type: 'array', items: PAIR },
                        totals: { type: 'object', additionalProperties: false, required: ['handoffs', 'confirmed', 'overdue'], properties: { handoffs: { type: 'integer' }, confirmed: { type: 'integer' }, overdue: { type: 'integer' } } },
                        perMinute: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['minute', 'sent'], properties: { minute: { type: 'string' }, sent: { type: 'integer' } } } },
                        overdueByHour: {
                            type: 'array', description: 'handoffs still waiting past their deadline, by the hour the deadline passed (the last full 23 hours)',
                            items: { type: 'object', additionalProperties: false, required: ['hour', 'overdue'], properties: { hour: { type: 'string' }, overdue: { type: 'integer' } } },
                        },
                        openCases: { type: 'integer' },
                    },
                },
            },
        },
        handler: async ({ principal }) => {
            if (principal.uscc) {
                throw new Problem('FORBIDDEN', 'the overview is for agencies and auditors; enterprises trace their own data', 'authorization');
            }
            return { status: 200, body: await overview(services.pool, seesEverything(principal) ? null : principal.org) };
        },
    }];
}
