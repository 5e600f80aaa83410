import type { IndexerFailure, IndexerStatus } from '../indexer/indexer';
import type { RouteSpec } from '../openapi/api';
import type { GatewayMetrics } from '../metrics';
import type { Services } from '../services';

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Counterfoil API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h2{margin-top:2rem;border-bottom:1px solid #ccd}code{background:#f3f4f6;padding:0 .25rem}
.op{margin:.4rem 0}.m{display:inline-block;width:4rem;font-weight:600;text-transform:uppercase}</style></head>
<body><h1>Counterfoil API</h1><p>The machine-readable contract is <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.1).
Every request but health and this page needs <code>Authorization: Bearer &lt;token&gt;</code>; errors are RFC 9457 problem documents with a stable <code>code</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{const byTag={};
for(const [path,ops] of Object.entries(doc.paths))for(const [method,op] of Object.entries(ops))(byTag[op.tags[0]]??=[]).push({method,path,op});
const esc=s=>String(s).replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
document.getElementById('ops').innerHTML=Object.entries(byTag).map(([tag,list])=>'<h2>'+esc(tag)+'</h2>'+list.map(({method,path,op})=>
'<div class="op"><span class="m">'+method+'</span><code>'+esc(path)+'</code> — '+esc(op.summary)+'</div>').join('')).join('');});
</script></body></html>`;

/** The indexer's state, as of now, in the metrics too. */
async function observeIndexer(metrics: GatewayMetrics, services: Services): Promise<IndexerStatus & { failure?: IndexerFailure }> {
    const failure = services.indexer.failure;
    metrics.indexerFailingBlock.set(failure ? Number(failure.blockNumber) : -1);
    const status = await services.indexer.status();
    metrics.indexerLag.set(status.lagBlocks);
    metrics.ledgerHeight.set(Number(status.ledgerHeight));
    return { ...status, failure };
}

export function systemRoutes(services: Services, metrics: GatewayMetrics, openapi: () => unknown): RouteSpec[] {
    return [
        {
            method: 'get', path: '/healthz', tag: 'System', public: true, summary: 'The process is up',
            responses: { 200: { description: 'Up', schema: 'Health' } },
            handler: async () => ({ status: 200, body: { status: 'ok' } }),
        },
        {
            method: 'get', path: '/readyz', tag: 'System', public: true, summary: 'The ledger and the database are reachable, the ledger\'s hash chain verifies, and the indexer can write every block',
            responses: { 200: { description: 'Ready', schema: 'Health' }, 503: { description: 'Not ready', schema: 'Health' } },
            handler: async () => {
                const checks: Record<string, unknown> = {};
                let ready = true;
                try {
                    await services.pool.query('SELECT 1');
                    checks.database = 'ok';
                } catch (error) {
                    ready = false;
                    checks.database = (error as Error).message;
                }
                const integrity = services.ledger.integrity();
                // A stored chain that does not verify: the ledger takes no writes until it is restored.
                checks.chain = { verified: integrity.verified, blocks: integrity.blocks, problems: integrity.problems.slice(0, 20) };
                ready &&= integrity.verified;
                try {
                    const status = await observeIndexer(metrics, services);
                    const failure = status.failure;
                    checks.ledger = { height: Number(status.ledgerHeight) };
                    checks.indexer = {
                        block: Number(status.blockNumber), lagBlocks: status.lagBlocks,
                        // An outage: a committed block the query tables cannot take. Lists, traces,
                        // events and webhooks stop at the block before it until it passes.
                        failing: failure
                            ? { block: Number(failure.blockNumber), error: failure.error.message, since: failure.since.toISOString(), attempts: failure.attempts }
                            : null,
                    };
                    ready &&= failure === undefined;
                } catch (error) {
                    ready = false;
                    checks.ledger = (error as Error).message;
                }
                return { status: ready ? 200 : 503, body: { status: ready ? 'ok' : 'unavailable', checks } };
            },
        },
        {
            method: 'get', path: '/metrics', tag: 'System', public: true, summary: 'Prometheus metrics',
            responses: { 200: { description: 'Metrics in the Prometheus text format', contentType: 'text/plain', schema: { type: 'string' } } },
            handler: async ({ response }) => {
                await observeIndexer(metrics, services).catch(() => undefined);
                response.type(metrics.registry.contentType).send(await metrics.registry.metrics());
                return { handled: true };
            },
        },
        {
            method: 'get', path: '/openapi.json', tag: 'System', public: true, summary: 'This API\'s OpenAPI 3.1 document',
            responses: { 200: { description: 'The OpenAPI document', schema: { type: 'object' } } },
            handler: async () => ({ status: 200, body: openapi() }),
        },
        {
            method: 'get', path: '/docs', tag: 'System', public: true, summary: 'A readable page of the API',
            responses: { 200: { description: 'HTML', contentType: 'text/html', schema: { type: 'string' } } },
            handler: async ({ response }) => {
                response.type('html').send(DOCS_PAGE);
                return { handled: true };
            },
        },
    ];
}
