/** The embedded ledger's benchmarks: workloads, baselines, and queries at scale. */
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { usccCheckCharacter } from '@counterfoil/chaincode';
import { adapterHealthSchema, adapterSchema, agencyRecordsSchema, deliveryExhaustionSchema } from '../../adapters/migrations';
import { unconfirmedTransfers } from '../../adapters/reconciliation/discrepancies';
import { GATEWAY_MIGRATIONS } from '../../gateway/indexer/migrations';
import { TokenService } from '../../gateway/auth/tokens';
import { listHandoffs } from '../../gateway/queries/handoffs';
import { overview } from '../../gateway/queries/overview';
import { type RunningGateway, startGateway } from '../../gateway/server';
import type { SigningIdentity } from '../../network/ledger';
import { EmbeddedLedger } from '../../network/embedded';
import { KeySealer } from '../../network/membership';
import { migrate } from '../../network/postgres';
import { closedLoop, type LoopResult, openLoop, percentiles, ratio, type Usage, withUsage } from './measure';

const DAY = 86_400_000;
const STEEL = '7208510000';

export interface WorkloadResult extends LoopResult {
    readonly name: string;
    readonly clients: number;
    readonly usage: Usage;
}

export interface OpenLoopResult extends LoopResult {
    readonly name: string;
    readonly offeredPerSecond: number;
    readonly reachable: boolean;
    /** From commit to the query tables showing it. */
    readonly indexerLagMs: ReturnType<typeof percentiles>;
}

export interface QueryResult {
    readonly name: string;
    readonly handoffs: number;
    readonly runs: number;
    readonly latencyMs: ReturnType<typeof percentiles>;
}

export interface EmbeddedResults {
    readonly closedLoop: WorkloadResult[];
    readonly openLoop: OpenLoopResult[];
    readonly baselines: {
        readonly rawPostgres: WorkloadResult;
        readonly gatewayOverDirect: {
            readonly direct: number; readonly gateway: number; readonly ratio: number;
            /** The gateway as autocannon drives it (absent from runs made before it was added). */
            readonly autocannon?: AutocannonResult; readonly autocannonRatio?: number;
        };
    };
    readonly queries: QueryResult[];
}

function uscc(seed: number): string {
    const body = `91310000${String(seed).padStart(9, '0')}`;
    return body + usccCheckCharacter(body);
}

const declarationNumberOf = (sequence: number, port = '2201'): string => `${port}2026${String(sequence).padStart(10, '0')}`;

/** What the workloads share: a ledger, identities, and a supply of licences and declarations made beforehand. */
class Fixture {
    private licenceSerial = 0;
    private declarationSerial = 0;
    private messageSerial = 0;

    constructor(
        readonly ledger: EmbeddedLedger,
        readonly commerce: SigningIdentity,
        readonly customs: SigningIdentity,
        readonly tax: SigningIdentity,
        readonly holder: string,
        readonly declaration: string,
    ) {}

    static async create(ledger: EmbeddedLedger): Promise<Fixture> {
        const commerce = await ledger.issueIdentity('CommerceMSP', { name: 'bench-commerce', attributes: { role: 'operator' } });
        const customs = await ledger.issueIdentity('CustomsMSP', { name: 'bench-customs', attributes: { role: 'operator' } });
        const tax = await ledger.issueIdentity('TaxMSP', { name: 'bench-tax', attributes: { role: 'operator' } });
        const holder = uscc(424242);
        const fixture = new Fixture(ledger, commerce, customs, tax, holder, declarationNumberOf(1));
        await fixture.issueDeclaration(fixture.declaration);
        return fixture;
    }

    async issueLicence(): Promise<string> {
        const number = `BL-${++this.licenceSerial}`;
        await this.ledger.submit({
            identity: this.commerce, contract: 'documents', transaction: 'Issue', transient: { content: Buffer.from(`licence ${number}`) },
            arguments: [JSON.stringify({
                type: 'LICENCE', number, holder: this.holder, validFrom: new Date(Date.now() - DAY).toISOString(), validTo: new Date(Date.now() + 180 * DAY).toISOString(),
                summary: { goods: '热轧钢板' }, permit: { direction: 'EXPORT', goods: [{ hsCode: STEEL, quantity: 1_000_000, unit: 'TNE' }], useLimit: 12, bulk: false },
            })],
        });
        return number;
    }

    nextDeclaration(): string {
        return declarationNumberOf(1_000_000 + ++this.declarationSerial);
    }

    async issueDeclaration(number: string): Promise<void> {
        await this.ledger.submit({
            identity: this.customs, contract: 'documents', transaction: 'Issue', transient: { content: Buffer.from(`declaration ${number}`) },
            arguments: [JSON.stringify({ type: 'EXPORT_DECLARATION', number, holder: this.holder, validFrom: new Date(Date.now() - DAY).toISOString(), validTo: new Date(Date.now() + DAY).toISOString() })],
        });
    }

    async verify(licence: string, declaration: string): Promise<void> {
        await this.ledger.submit({
            identity: this.customs, contract: 'verifications', transaction: 'Verify',
            arguments: [JSON.stringify({
                declarationNumber: declaration, permit: { type: 'LICENCE', number: licence }, holder: this.holder, direction: 'EXPORT',
                goods: [{ hsCode: STEEL, quantity: 10, unit: 'TNE' }], declaredAt: new Date(Date.now() - 60_000).toISOString(), port: '2201',
            })],
        });
    }

    nextMessage(): string {
        return `BM-${++this.messageSerial}`;
    }

    sendRequest(messageId: string, recipient = 'TaxMSP', declaration = this.declaration): Record<string, unknown> {
        return { messageId, recipient, subject: this.holder, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: 'a'.repeat(64), size: 1000 };
    }

    async send(messageId: string, recipient = 'TaxMSP', declaration = this.declaration): Promise<void> {
        await this.ledger.submit({ identity: this.customs, contract: 'handoffs', transaction: 'Send', arguments: [JSON.stringify(this.sendRequest(messageId, recipient, declaration))] });
    }

    async receiveAndAccept(messageId: string, recipient: SigningIdentity = this.tax): Promise<void> {
        await this.ledger.submit({ identity: recipient, contract: 'handoffs', transaction: 'RecordReceipt', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId, payloadHash: 'a'.repeat(64) })] });
        await this.ledger.submit({ identity: recipient, contract: 'handoffs', transaction: 'Acknowledge', arguments: [JSON.stringify({ sender: 'CustomsMSP', messageId, decision: 'ACCEPTED' })] });
    }
}

/** A licence per client at a time, each used for its 12 verifications, then the next from the supply. */
class LicenceSupply {
    private readonly current = new Map<number, { number: string; uses: number }>();

    constructor(private readonly supply: string[]) {}

    static async make(fixture: Fixture, count: number, clients: number): Promise<LicenceSupply> {
        const numbers: string[] = [];
        await Promise.all(Array.from({ length: clients }, async () => {
            while (numbers.length < count) {
                numbers.push(await fixture.issueLicence());
            }
        }));
        return new LicenceSupply(numbers);
    }

    take(client: number): string {
        let entry = this.current.get(client);
        if (!entry || entry.uses >= 12) {
            const number = this.supply.pop();
            if (!number) {
                throw new Error('the licence supply ran out');
            }
            entry = { number, uses: 0 };
            this.current.set(client, entry);
        }
        entry.uses++;
        return entry.number;
    }
}

export interface EmbeddedOptions {
    readonly pool: Pool;
    readonly clients: number;
    readonly seconds: number;
    readonly rates: readonly number[];
    readonly scales: readonly number[];
    readonly keyDir: string;
    readonly scalePool: Pool;
    readonly log: (line: string) => void;
}

export async function embeddedBenchmarks(options: EmbeddedOptions): Promise<EmbeddedResults> {
    const { pool, clients, seconds, log } = options;
    const ledger = await EmbeddedLedger.open({ pool, keys: await KeySealer.open(join(options.keyDir, 'key-encryption-key')) });
    let gateway: RunningGateway | undefined;
    try {
        const fixture = await Fixture.create(ledger);
        gateway = await startGateway({ pool, ledger, tokenKeyFile: join(options.keyDir, 'token.pem'), proofKeyFile: join(options.keyDir, 'proof.pem'), port: 0, host: '127.0.0.1', rateLimitPerMinute: 1_000_000 });
        const results: WorkloadResult[] = [];
        // The gateway's indexer runs throughout, as in the hub; a workload starts once it has
        // caught up with what the one before it committed, so each indexes only its own.
        const caughtUp = async (): Promise<void> => {
            const tip = (await ledger.info()).height - 1n;
            log(`  (the gateway's indexer catching up to block ${tip} …)`);
            await (gateway as RunningGateway).services.indexer.caughtUp(tip, 3_600_000);
        };
        const run = async (name: string, transactionsPerOperation: number, operation: (client: number, sequence: number) => Promise<void>, clientCount = clients): Promise<WorkloadResult> => {
            await caughtUp();
            log(`  ${name} (closed loop, ${clientCount} clients, ${seconds} s) …`);
            const { result, usage } = await withUsage(() => closedLoop(clientCount, seconds, transactionsPerOperation, operation));
            const entry = { name, clients: clientCount, ...result, usage };
            log(`    ${result.transactionsPerSecond} tx/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${result.errors} errors`);
            results.push(entry);
            return entry;
        };

        await run('issue a licence', 1, async () => { await fixture.issueLicence(); });

        // Verifications draw licences down; each licence serves 12. The supply is made beforehand.
        const expected = Math.ceil((seconds * 2000) / 12) + clients;
        log(`  (issuing ${expected} licences for the verifications …)`);
        const licences = await LicenceSupply.make(fixture, expected, clients);
        await run('verify a permit (with drawdown)', 1, async (client) => { await fixture.verify(licences.take(client), fixture.nextDeclaration()); });

        const direct = await run('send a handoff', 1, async () => { await fixture.send(fixture.nextMessage()); });

        log(`  (sending handoffs to confirm …)`);
        const waiting: string[] = [];
        await Promise.all(Array.from({ length: clients }, async () => {
            while (waiting.length < seconds * 1500) {
                const messageId = fixture.nextMessage();
                await fixture.send(messageId);
                waiting.push(messageId);
            }
        }));
        await run('record receipt and acknowledgement', 2, async () => {
            const messageId = waiting.pop();
            if (!messageId) {
                throw new Error('no handoff left to confirm');
            }
            await fixture.receiveAndAccept(messageId);
        });

        const mixedLicences = await LicenceSupply.make(fixture, Math.ceil((seconds * 400) / 12) + clients, clients);
        const forex = await ledger.issueIdentity('ForexMSP', { name: 'bench-forex', attributes: { role: 'operator' } });
        await run('mixed: a declaration, its verification, two handoffs, their receipts and acknowledgements', 8, async (client) => {
            const declaration = fixture.nextDeclaration();
            await fixture.issueDeclaration(declaration);
            await fixture.verify(mixedLicences.take(client), declaration);
            const toTax = fixture.nextMessage();
            const toForex = fixture.nextMessage();
            await Promise.all([fixture.send(toTax, 'TaxMSP', declaration), fixture.send(toForex, 'ForexMSP', declaration)]);
            await Promise.all([fixture.receiveAndAccept(toTax), fixture.receiveAndAccept(toForex, forex)]);
        });

        // The same send through the gateway's REST API, as an adapter in another process would. The
        // gateway answers once the query tables show the write.
        const tokens = await TokenService.open(join(options.keyDir, 'token.pem'));
        const token = await tokens.issue({ subject: 'bench', org: 'CustomsMSP', role: 'operator' });
        // node:http with kept-alive connections: a lighter client than fetch, whose cost counts against the gateway here.
        const agent = new Agent({ keepAlive: true, maxSockets: clients });
        const overHttp = await run('send a handoff, through the gateway (HTTP)', 1, async () => {
            const status = await post(agent, `${(gateway as RunningGateway).url}/v1/handoffs`, token, JSON.stringify(fixture.sendRequest(fixture.nextMessage())));
            if (status !== 201 && status !== 200) {
                throw new Error(`the gateway answered ${status}`);
            }
        });
        agent.destroy();
        // The same again with autocannon, a load client from outside the project.
        const byAutocannon = await sendByAutocannon(`${(gateway as RunningGateway).url}/v1/handoffs`, token, clients, seconds, () => JSON.stringify(fixture.sendRequest(fixture.nextMessage())), log);

        // Raw PostgreSQL: per transaction, the rows a send writes (state, history, transaction), committed on its own.
        await pool.query('CREATE TABLE IF NOT EXISTS bench_state (key text PRIMARY KEY, value bytea NOT NULL, version bigint NOT NULL)');
        await pool.query('CREATE TABLE IF NOT EXISTS bench_history (key text NOT NULL, version bigint NOT NULL, value bytea, PRIMARY KEY (key, version))');
        await pool.query('CREATE TABLE IF NOT EXISTS bench_transactions (id text PRIMARY KEY, version bigint NOT NULL)');
        const value = Buffer.alloc(600, 1);
        const rawPostgres = await run('raw PostgreSQL: a send\'s rows, one commit each', 1, async (_client, sequence) => {
            const connection = await pool.connect();
            try {
                await connection.query('BEGIN');
                for (let key = 0; key < 5; key++) {
                    await connection.query('INSERT INTO bench_state (key, value, version) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version', [`${sequence}:${key}`, value, sequence]);
                    await connection.query('INSERT INTO bench_history (key, version, value) VALUES ($1, $2, $3)', [`${sequence}:${key}`, sequence, value]);
                }
                await connection.query('INSERT INTO bench_transactions (id, version) VALUES ($1, $2)', [`tx-${sequence}`, sequence]);
                await connection.query('COMMIT');
            } finally {
                connection.release();
            }
        });

        // Open loop: verifications arriving at fixed rates, with the indexer's lag behind each commit.
        const openResults: OpenLoopResult[] = [];
        // Each licence is used at most 12 times, a licence's uses far apart (no two verifications of one licence at once).
        const openTotal = options.rates.reduce((sum, rate) => sum + rate * 10, 0);
        const openLicences: string[] = [];
        await Promise.all(Array.from({ length: clients }, async () => {
            while (openLicences.length < Math.ceil(openTotal / 12) + 1) {
                openLicences.push(await fixture.issueLicence());
            }
        }));
        let openSequence = 0;
        for (const rate of options.rates) {
            await caughtUp();
            log(`  verify a permit, open loop at ${rate}/s for 10 s …`);
            const lags: number[] = [];
            const lagged: Promise<void>[] = [];
            const result = await openLoop(rate, 10, 1, async () => {
                const licence = openLicences[openSequence++ % openLicences.length] as string;
                const declaration = fixture.nextDeclaration();
                const committed = await ledger.submit({
                    identity: fixture.customs, contract: 'verifications', transaction: 'Verify',
                    arguments: [JSON.stringify({
                        declarationNumber: declaration, permit: { type: 'LICENCE', number: licence }, holder: fixture.holder, direction: 'EXPORT',
                        goods: [{ hsCode: STEEL, quantity: 10, unit: 'TNE' }], declaredAt: new Date(Date.now() - 60_000).toISOString(), port: '2201',
                    })],
                });
                const at = Number(process.hrtime.bigint()) / 1e6;
                lagged.push((gateway as RunningGateway).services.indexer.caughtUp(committed.blockNumber, 600_000).then(() => { lags.push(Number(process.hrtime.bigint()) / 1e6 - at); }, () => undefined));
            });
            await Promise.all(lagged);
            const entry = { name: `verify a permit at ${rate}/s`, ...result, indexerLagMs: percentiles(lags) };
            log(`    achieved ${result.operationsPerSecond}/s${result.reachable ? '' : ' (not reachable)'}, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, indexer lag p99 ${entry.indexerLagMs.p99} ms`);
            openResults.push(entry);
        }

        const queries = await queriesAtScale(options.scalePool, options.scales, log);
        return {
            closedLoop: results, openLoop: openResults, queries,
            baselines: {
                rawPostgres,
                gatewayOverDirect: {
                    direct: direct.transactionsPerSecond, gateway: overHttp.transactionsPerSecond, ratio: ratio(overHttp.transactionsPerSecond, direct.transactionsPerSecond),
                    autocannon: byAutocannon, autocannonRatio: ratio(byAutocannon.transactionsPerSecond, direct.transactionsPerSecond),
                },
            },
        };
    } finally {
        await gateway?.stop();
        await ledger.close();
    }
}

export interface AutocannonResult {
    readonly connections: number;
    readonly seconds: number;
    /** Answers 201 or 200 a second. */
    readonly transactionsPerSecond: number;
    readonly latencyMs: { readonly p50: number; readonly p97_5: number; readonly p99: number; readonly max: number };
    /** Answers other than 2xx, and connection errors. */
    readonly errors: number;
}

/** POSTs a new body each time for `seconds` over `connections` kept-alive connections, with autocannon. */
async function sendByAutocannon(url: string, token: string, connections: number, seconds: number, body: () => string, log: (line: string) => void): Promise<AutocannonResult> {
    log(`  send a handoff, through the gateway (HTTP), driven by autocannon (${connections} connections, ${seconds} s) …`);
    const result = await autocannon({
        url, connections, duration: seconds,
        requests: [{
            method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: body() }),
        }],
    });
    const ok = result['2xx'];
    const entry = {
        connections, seconds: result.duration, transactionsPerSecond: Math.round(ok / result.duration),
        latencyMs: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99, max: result.latency.max },
        errors: result.non2xx + result.errors,
    };
    log(`    ${entry.transactionsPerSecond} tx/s, p50 ${entry.latencyMs.p50} ms, p99 ${entry.latencyMs.p99} ms, ${entry.errors} errors`);
    return entry;
}

/** POSTs a JSON body with a bearer token; resolves with the status once the answer is read. */
function post(agent: Agent, url: string, token: string, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const outgoing = request(url, {
            method: 'POST', agent, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        }, (answer) => {
            answer.resume();
            answer.on('end', () => resolve(answer.statusCode ?? 0));
            answer.on('error', reject);
        });
        outgoing.on('error', reject);
        outgoing.end(body);
    });
}

/**
 * Brings the query tables up to `count` handoffs with a bulk load (not through the ledger: what
 * is measured is the queries). A large load goes in with the table's indexes dropped, and they are
 * built again afterwards in one pass each, which is many times faster than keeping them up to date
 * row by row once they outgrow memory.
 */
async function loadHandoffs(pool: Pool, count: number, log: (line: string) => void): Promise<void> {
    const existing = Number((await pool.query<{ count: string }>('SELECT count(*) FROM handoffs')).rows[0]?.count ?? 0);
    if (existing >= count) {
        return;
    }
    log(`  (bulk-loading ${(count - existing).toLocaleString('en')} handoffs into the query tables …)`);
    const client = await pool.connect();
    try {
        // Each index as the statement that builds it again, the primary key among them.
        const indexes = (await client.query<{ name: string; constraint: boolean; definition: string }>(
            `SELECT i.relname AS name, c.conname IS NOT NULL AS constraint,
                    CASE WHEN c.conname IS NULL THEN pg_get_indexdef(x.indexrelid)
                         ELSE format('ALTER TABLE handoffs ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) END AS definition
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid
              WHERE x.indrelid = 'handoffs'::regclass`)).rows;
        const rebuild = count - existing > 500_000;
        if (rebuild) {
            for (const index of indexes) {
                await client.query(index.constraint ? `ALTER TABLE handoffs DROP CONSTRAINT "${index.name}"` : `DROP INDEX "${index.name}"`);
            }
        }
        // A benchmark's own data, generated again on a rerun: losing the last commits on a crash does not matter.
        await client.query('SET synchronous_commit = off');
        const chunk = 250_000;
        for (let from = existing + 1; from <= count; from += chunk) {
            const to = Math.min(count, from + chunk - 1);
            // 90 % accepted, 5 % received, 4 % sent (a quarter of them overdue), 1 % rejected; 100,000 enterprises.
            await client.query(
                `INSERT INTO handoffs (sender, message_id, recipient, subject, document_type, document_number, status, sent_at, receipt_deadline,
                     acknowledgement_deadline, record, transaction_id, block_number, updated_at)
                 SELECT 'CustomsMSP', 'SC-' || n, CASE WHEN n % 2 = 0 THEN 'TaxMSP' ELSE 'ForexMSP' END,
                        '91310000' || lpad((n % 100000)::text, 9, '0') || 'X', 'EXPORT_DECLARATION', '2201' || lpad(n::text, 14, '0'),
                        CASE WHEN n % 100 < 90 THEN 'ACCEPTED' WHEN n % 100 < 95 THEN 'RECEIVED' WHEN n % 100 < 99 THEN 'SENT' ELSE 'REJECTED' END,
                        now() - (n % 86400) * interval '1 second', now() - (n % 86400) * interval '1 second' + CASE WHEN n % 4 = 0 THEN interval '1 hour' ELSE interval '2 days' END,
                        now() + interval '3 days',
                        jsonb_build_object('sender', 'CustomsMSP', 'messageId', 'SC-' || n, 'recipient', CASE WHEN n % 2 = 0 THEN 'TaxMSP' ELSE 'ForexMSP' END,
                            'subject', '91310000' || lpad((n % 100000)::text, 9, '0') || 'X', 'status', 'SENT', 'retransmissions', 0,
                            'document', jsonb_build_object('type', 'EXPORT_DECLARATION', 'number', '2201' || lpad(n::text, 14, '0')), 'payloadHash', repeat('a', 64)),
                        md5(n::text) || md5((n + 1)::text), n / 100, now()
                   FROM generate_series($1::bigint, $2::bigint) AS n`, [from, to]);
            log(`    ${to.toLocaleString('en')}`);
        }
        if (rebuild) {
            log(`  (building the ${indexes.length} indexes again …)`);
            await client.query("SET maintenance_work_mem = '1GB'");
            for (const index of indexes) {
                await client.query(index.definition);
            }
        }
        await client.query('ANALYZE handoffs');
        await client.query('RESET ALL');
    } finally {
        client.release();
    }
}

/**
 * At each scale in turn (ascending), loads the handoffs up to it and times the overdue and
 * unconfirmed queries and an enterprise's trace.
 */
export async function queriesAtScale(pool: Pool, scales: readonly number[], log: (line: string) => void): Promise<QueryResult[]> {
    await migrate(pool, 'gateway', GATEWAY_MIGRATIONS);
    await migrate(pool, 'adapters', [adapterSchema, agencyRecordsSchema, adapterHealthSchema, deliveryExhaustionSchema]);
    const results: QueryResult[] = [];
    for (const count of [...scales].sort((a, b) => a - b)) {
        await loadHandoffs(pool, count, log);
        results.push(...await timeQueries(pool, count, log));
    }
    return results;
}

async function timeQueries(pool: Pool, count: number, log: (line: string) => void): Promise<QueryResult[]> {
    const time = async (name: string, work: () => Promise<unknown>, runs = 20): Promise<QueryResult> => {
        await work();
        const spans: number[] = [];
        for (let run = 0; run < runs; run++) {
            const started = Number(process.hrtime.bigint()) / 1e6;
            await work();
            spans.push(Number(process.hrtime.bigint()) / 1e6 - started);
        }
        const result = { name, handoffs: count, runs, latencyMs: percentiles(spans) };
        log(`    ${name}: p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms`);
        return result;
    };
    log(`  queries over ${count.toLocaleString('en')} handoffs …`);
    return [
        await time('handoffs, newest first, first page (50)', () => listHandoffs(pool, { limit: 50 })),
        await time('overdue handoffs, first page (50)', () => listHandoffs(pool, { overdue: true, limit: 50 })),
        await time('overdue handoffs to tax, first page (50)', () => listHandoffs(pool, { overdue: true, recipient: 'TaxMSP', limit: 50 })),
        await time('unconfirmed transfers, overdue, first page (50)', () => unconfirmedTransfers(pool, { overdueOnly: true, limit: 50 })),
        await time('an enterprise\'s handoffs (its trace)', () => listHandoffs(pool, { subject: '91310000000012345X', limit: 200 })),
        await time('the overview, an auditor\'s (from the counts the query tables keep)', () => overview(pool, null)),
        await time('the overview, an auditor\'s, by scanning the handoffs (the baseline: how it was served before)', () => overviewByScan(pool), 3),
    ];
}

/** The overview's figures as they were computed before the counts: aggregates over every handoff. */
async function overviewByScan(pool: Pool): Promise<void> {
    await pool.query(`SELECT sender, recipient, status, count(*) AS count,
            count(*) FILTER (WHERE (status IN ('SENT', 'MISMATCH') AND receipt_deadline < now()) OR (status = 'RECEIVED' AND acknowledgement_deadline < now())) AS overdue
       FROM handoffs GROUP BY sender, recipient, status`);
    await pool.query(`SELECT sender, recipient, percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS median, max(lag) AS max
       FROM (SELECT sender, recipient, extract(epoch FROM (record -> 'receipt' ->> 'at')::timestamptz - sent_at)::float8 AS lag
               FROM handoffs WHERE record -> 'receipt' IS NOT NULL) AS received GROUP BY sender, recipient`);
    await pool.query(`SELECT date_trunc('minute', sent_at) AS minute, count(*) AS sent FROM handoffs
      WHERE sent_at > now() - interval '1 hour' GROUP BY 1 ORDER BY 1`);
    await pool.query("SELECT count(*) AS count FROM cases WHERE status = 'OPEN'");
}
