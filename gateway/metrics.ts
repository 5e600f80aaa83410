import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus metrics, in a registry of its own (no global state). */
export class GatewayMetrics {
    readonly registry = new Registry();
    readonly requests = new Counter({ name: 'counterfoil_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
    readonly duration = new Histogram({
        name: 'counterfoil_http_request_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
    });
    readonly indexerLag = new Gauge({ name: 'counterfoil_indexer_lag_blocks', help: 'Committed blocks not yet in the query tables', registers: [this.registry] });
    readonly indexerFailingBlock = new Gauge({ name: 'counterfoil_indexer_failing_block', help: 'The block the indexer cannot write to the query tables, retried until it can; -1 when none', registers: [this.registry] });
    readonly ledgerHeight = new Gauge({ name: 'counterfoil_ledger_height', help: 'Blocks on the ledger', registers: [this.registry] });
    readonly webhookDeliveries = new Counter({ name: 'counterfoil_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [this.registry] });

    constructor() {
        collectDefaultMetrics({ register: this.registry, prefix: 'counterfoil_' });
    }
}
