import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { canonicalJson } from '@counterfoil/chaincode';
import { EXPORT_FLOW_AGENCIES, exportFlowAdapters, exportScenario, parseAdapterConfig, type ScenarioTotals, SimulatedAgencySystem } from '../../adapters';
import type { AuditReport } from '../../gateway/audit/report';
import { auditLedger } from '../../gateway/audit/report';
import { headerHash, sha256Hex } from '../../network/storage/blocks';
import { exercised, GatewayHarness } from '../gateway/harness';
import { PERSONAS } from '../gateway/personas';
import { until } from '../support/until';

const run = promisify(execFile);
const ORDER = EXPORT_FLOW_AGENCIES.map((agency) => agency.name);

describe('auditor replay', function () {
    this.timeout(120_000);
    const systems = {
        commerce: new SimulatedAgencySystem('CommerceMSP', 5),
        inspection: new SimulatedAgencySystem('InspectionMSP', 5),
        customs: new SimulatedAgencySystem('CustomsMSP', 5),
        tax: new SimulatedAgencySystem('TaxMSP', 5, { rejectPercent: 25 }),
        forex: new SimulatedAgencySystem('ForexMSP', 5, { dropPercent: 30 }),
    };
    let harness: GatewayHarness;
    let totals: ScenarioTotals;
    let auditor: string;
    let folder: string;

    const audit = (options: Parameters<typeof auditLedger>[2] = {}): Promise<AuditReport> => auditLedger(harness.ledger.history, harness.database.pool, options);
    const sql = (text: string, values: unknown[] = []): Promise<unknown> => harness.database.pool.query(text, values);
    const height = async (): Promise<number> => Number((await harness.ledger.info()).height);

    /** Runs `change` on the stored ledger, audits, and puts things back as they were. */
    async function tampered(change: () => Promise<() => Promise<void>>, options: Parameters<typeof auditLedger>[2] = {}): Promise<AuditReport> {
        const restore = await change();
        try {
            return await audit(options);
        } finally {
            await restore();
        }
    }

    before(async () => {
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-audit-'));
        const adapters = await exportFlowAdapters(systems, { schedule: '0 0 1 1 *', maxDeliveryAttempts: 1, maxRetransmissions: 0 });
        harness = await GatewayHarness.start({ adapters: parseAdapterConfig({ adapters }) });
        auditor = await harness.token(PERSONAS.auditor);
        const admin = await harness.token(PERSONAS.customsAdmin);
        await harness.request('POST', '/v1/deadline-policies', { token: admin, body: { documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'ForexMSP', receiptSeconds: 1, acknowledgementSeconds: 60 } });
        totals = exportScenario(systems, { seed: 5, declarations: 8 });
        for (let round = 0; round < 3; round++) {
            for (const name of ORDER) {
                await harness.adapters.adapters.get(name)?.run();
                await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
            }
        }
        await new Promise((resolve) => setTimeout(resolve, 1100));
        await harness.reconciler.run('test');
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
    });

    after(async () => {
        await harness?.stop();
        await Promise.all(Object.values(systems).map((system) => system.stop()));
        await rm(folder, { recursive: true, force: true });
    });

    it('replays an untouched ledger clean: chain, every signature, every validation code, world state and query tables', async () => {
        const report = await audit();
        expect(report.verdict, JSON.stringify(report, null, 1).slice(0, 2000)).to.equal('CLEAN');
        expect(report.blocks).to.equal(await height());
        expect(report.scope.reachedTip).to.equal(true);
        expect(report.signatures).to.deep.include({ checked: report.transactions.total, failed: 0 });
        expect(report.validationCodes.checked).to.equal(report.transactions.total);
        expect(report.worldState).to.deep.equal({ compared: true, divergences: [] });
        expect(report.queryTables).to.deep.equal({ compared: true, divergences: [] });
        const handoffs = Object.values(report.records.handoffs).reduce((sum, count) => sum + count, 0);
        expect(handoffs).to.equal(totals.handoffs);
        expect(report.records.documents).to.deep.equal({ LICENCE: totals.licences, ORIGIN_CERT: totals.certificates, EXPORT_DECLARATION: totals.declarations });
        const lost = report.records.handoffs.SENT ?? 0;
        expect(lost, 'forex lost some').to.be.greaterThan(0);
        expect(report.records.overdue).to.equal(lost);
        expect(report.records.cases.OPEN).to.equal(lost + (report.records.handoffs.REJECTED ?? 0));
        expect(report.lastBlockHash).to.equal((await harness.ledger.info()).currentBlockHash);
    });

    it('finds one altered byte of a stored block, and names the block', async () => {
        const target = Math.floor((await height()) / 2);
        const report = await tampered(async () => {
            const saved = (await harness.database.pool.query<{ data: Buffer }>('SELECT data FROM ledger_blocks WHERE number = $1::bigint', [target])).rows[0]?.data;
            await sql('UPDATE ledger_blocks SET data = overlay(data placing $2::bytea from 40 for 1) WHERE number = $1::bigint', [target, Buffer.from('#')]);
            return async () => { await sql('UPDATE ledger_blocks SET data = $2::bytea WHERE number = $1::bigint', [target, saved]); };
        });
        expect(report.verdict).to.equal('PROBLEMS');
        expect(report.chain.problems.find((problem) => problem.blockNumber === target)?.problem).to.equal('the block data does not match its data hash');
        expect((await audit()).verdict, 'clean again once the byte is back').to.equal('CLEAN');
    });

    it('finds a stored block whose bytes are no longer UTF-8 text, and names it', async () => {
        const target = Math.floor((await height()) / 3);
        const report = await tampered(async () => {
            const saved = (await harness.database.pool.query<{ data: Buffer }>('SELECT data FROM ledger_blocks WHERE number = $1::bigint', [target])).rows[0]?.data;
            await sql('UPDATE ledger_blocks SET data = overlay(data placing $2::bytea from 40 for 1) WHERE number = $1::bigint', [target, Buffer.from([0xff])]);
            return async () => { await sql('UPDATE ledger_blocks SET data = $2::bytea WHERE number = $1::bigint', [target, saved]); };
        });
        expect(report.chain.problems.find((problem) => problem.blockNumber === target)?.problem).to.equal('the block data does not match its data hash');
        expect(report.scope.reachedTip, 'the blocks after it are replayed').to.equal(true);
    });

    it('finds a deleted block, and names it', async () => {
        const target = (await height()) - 3;
        const report = await tampered(async () => {
            const saved = (await harness.database.pool.query('SELECT * FROM ledger_blocks WHERE number = $1::bigint', [target])).rows[0] as Record<string, unknown>;
            const transactions = (await harness.database.pool.query('SELECT * FROM ledger_transactions WHERE block_number = $1::bigint', [target])).rows as Record<string, unknown>[];
            await sql('DELETE FROM ledger_transactions WHERE block_number = $1::bigint', [target]);
            await sql('DELETE FROM ledger_blocks WHERE number = $1::bigint', [target]);
            return async () => {
                await sql('INSERT INTO ledger_blocks (number, previous_hash, data_hash, header_hash, data, committed_at) VALUES ($1, $2, $3, $4, $5, $6)',
                    [saved.number, saved.previous_hash, saved.data_hash, saved.header_hash, saved.data, saved.committed_at]);
                for (const row of transactions) {
                    await sql('INSERT INTO ledger_transactions (transaction_id, block_number, tx_index, validation_code) VALUES ($1, $2, $3, $4)',
                        [row.transaction_id, row.block_number, row.tx_index, row.validation_code]);
                }
            };
        });
        expect(report.chain.problems.map((problem) => problem.problem)).to.include(`block ${target} is missing; the next stored block is ${target + 1}`);
        expect((await audit()).verdict, 'clean again once the block is back').to.equal('CLEAN');
    });

    it('finds a changed world-state row, with its key and the block and transaction that wrote it', async () => {
        const row = (await harness.database.pool.query<{ key: Buffer; value: Buffer; block_number: string }>(
            "SELECT key, value, block_number FROM world_state WHERE namespace = 'counterfoil' AND position('handoff-confirmation'::bytea in key) > 0 LIMIT 1")).rows[0];
        expect(row).to.not.equal(undefined);
        const report = await tampered(async () => {
            const forged = Buffer.from(row?.value.toString('utf8').replace('REJECTED', 'ACCEPTED').replace('"matches":false', '"matches":true') + ' ');
            await sql("UPDATE world_state SET value = $2::bytea WHERE namespace = 'counterfoil' AND key = $1::bytea", [row?.key, forged]);
            return async () => { await sql("UPDATE world_state SET value = $2::bytea WHERE namespace = 'counterfoil' AND key = $1::bytea", [row?.key, row?.value]); };
        });
        expect(report.worldState.divergences).to.have.length(1);
        const [divergence] = report.worldState.divergences;
        expect(divergence).to.deep.include({ namespace: 'counterfoil', key: row?.key.toString('utf8'), problem: 'value differs', blockNumber: Number(row?.block_number) });
        expect(divergence?.transactionId).to.match(/^[0-9a-f]{64}$/);
        expect(report.chain.problems).to.deep.equal([]);
    });

    it('compares world state and query tables a few rows at a time as it does in large pages', async () => {
        const clean = await audit({ pageSize: 2 });
        expect(clean.worldState).to.deep.equal({ compared: true, divergences: [] });
        expect(clean.queryTables).to.deep.equal({ compared: true, divergences: [] });
        const row = (await harness.database.pool.query<{ sender: string; message_id: string }>("SELECT sender, message_id FROM handoffs ORDER BY sender DESC, message_id DESC LIMIT 1")).rows[0];
        const keys = (report: AuditReport): string[] => report.queryTables.divergences.map((divergence) => `${divergence.table} ${divergence.key} ${divergence.problem}`);
        const small = await tampered(async () => {
            await sql('UPDATE handoffs SET message_id = message_id || \'-MOVED\' WHERE sender = $1 AND message_id = $2', [row?.sender, row?.message_id]);
            return async () => { await sql('UPDATE handoffs SET message_id = $2 WHERE sender = $1 AND message_id = $2 || \'-MOVED\'', [row?.sender, row?.message_id]); };
        }, { pageSize: 2 });
        expect(keys(small)).to.have.members([
            `handoffs ${row?.sender}/${row?.message_id}-MOVED unexpected`, `handoffs.status ${row?.sender}/${row?.message_id}-MOVED unexpected`,
            `handoffs ${row?.sender}/${row?.message_id} missing`, `handoffs.status ${row?.sender}/${row?.message_id} missing`,
        ]);
        expect((await audit()).verdict).to.equal('CLEAN');
    });

    it('finds a changed query-table row, and names the table, the row and the block it claims to come from', async () => {
        const row = (await harness.database.pool.query<{ sender: string; message_id: string; status: string; block_number: string }>("SELECT sender, message_id, status, block_number FROM handoffs WHERE status = 'SENT' LIMIT 1")).rows[0];
        const report = await tampered(async () => {
            await sql("UPDATE handoffs SET status = 'ACCEPTED', record = jsonb_set(record, '{status}', '\"ACCEPTED\"') WHERE sender = $1 AND message_id = $2", [row?.sender, row?.message_id]);
            return async () => { await sql("UPDATE handoffs SET status = 'SENT', record = jsonb_set(record, '{status}', '\"SENT\"') WHERE sender = $1 AND message_id = $2", [row?.sender, row?.message_id]); };
        });
        expect(report.queryTables.divergences.map((divergence) => [divergence.table, divergence.key, divergence.problem, divergence.blockNumber])).to.deep.equal([
            ['handoffs', `${row?.sender}/${row?.message_id}`, 'differs', Number(row?.block_number)],
            ['handoffs.status', `${row?.sender}/${row?.message_id}`, 'differs', Number(row?.block_number)],
        ]);
        expect(report.worldState.divergences).to.deep.equal([]);
    });

    it('finds a forged transaction in a re-hashed block: the chain holds, the creator\'s signature does not', async () => {
        const last = (await height()) - 1;
        const report = await tampered(async () => rewriteBlock(last, (data) => {
            const proposal = (data.transactions[0] as { proposal: { arguments: string[] } }).proposal;
            proposal.arguments = [`${proposal.arguments[0]?.slice(0, -1)} }`];
        }));
        expect(report.chain.problems).to.deep.equal([]);
        expect(report.signatures.problems.map((problem) => [problem.blockNumber, problem.problem])).to.deep.equal([[last, 'the creator\'s signature does not match the proposal']]);
    });

    it('finds a validation code changed in a re-hashed block, and what the replay derives instead', async () => {
        const last = (await height()) - 1;
        const report = await tampered(async () => rewriteBlock(last, (data) => {
            const transaction = data.transactions[0] as { validationCode: string };
            transaction.validationCode = 'MVCC_READ_CONFLICT';
        }));
        expect(report.chain.problems).to.deep.equal([]);
        expect(report.validationCodes.problems.map((problem) => [problem.blockNumber, problem.problem])).to.deep.equal([[last, 'marked MVCC_READ_CONFLICT, but replay finds it VALID']]);
    });

    it('gives any record as of a block or a time, with who changed it, when and in which transaction', async () => {
        const tokens = await harness.personaTokens();
        const [licence, quantity] = [...totals.drawn][0] as [string, number];
        const now = await harness.request<{ asOfBlock: number; state: { record: { status: string }; balance: { drawn: number }[]; usesRemaining: number }; history: { mspId: string; call: string; blockNumber: number }[] }>(
            'GET', `/v1/audit/documents/LICENCE/${encodeURIComponent(licence)}`, { token: auditor });
        expect(now.status, now.text).to.equal(200);
        expect(now.body.state.balance[0]?.drawn).to.equal(quantity);
        expect(now.body.history.map((change) => [change.mspId, change.call])).to.deep.include.members([['CommerceMSP', 'documents:Issue'], ['CustomsMSP', 'verifications:Verify']]);
        const issued = now.body.history.find((change) => change.call === 'documents:Issue')?.blockNumber as number;
        const before = await harness.request<typeof now.body>('GET', `/v1/audit/documents/LICENCE/${encodeURIComponent(licence)}?toBlock=${issued}`, { token: auditor });
        expect(before.body.asOfBlock).to.equal(issued);
        expect(before.body.state.balance[0]?.drawn, 'nothing drawn when it was issued').to.equal(0);
        const earlier = await harness.request<{ state: unknown }>('GET', `/v1/audit/documents/LICENCE/${encodeURIComponent(licence)}?toBlock=${issued - 1}`, { token: auditor });
        expect(earlier.body.state, 'not yet issued').to.equal(null);

        const accepted = (await harness.database.pool.query<{ message_id: string }>("SELECT message_id FROM handoffs WHERE sender = 'CustomsMSP' AND recipient = 'TaxMSP' AND status = 'ACCEPTED' LIMIT 1")).rows[0]?.message_id as string;
        const handoff = await harness.request<{ state: { record: { status: string } }; history: { mspId: string; call: string; blockNumber: number; timestamp: string }[] }>(
            'GET', `/v1/audit/handoffs/CustomsMSP/${accepted}`, { token: auditor });
        expect(handoff.body.state.record.status).to.equal('ACCEPTED');
        expect(handoff.body.history.map((change) => [change.mspId, change.call])).to.deep.equal([
            ['CustomsMSP', 'handoffs:Send'], ['TaxMSP', 'handoffs:RecordReceipt'], ['TaxMSP', 'handoffs:Acknowledge'],
        ]);
        const receipt = handoff.body.history[1] as { blockNumber: number; timestamp: string };
        const sentOnly = await harness.request<{ state: { record: { status: string } } }>('GET', `/v1/audit/handoffs/CustomsMSP/${accepted}?toBlock=${receipt.blockNumber - 1}`, { token: auditor });
        expect(sentOnly.body.state.record.status).to.equal('SENT');
        const byTime = await harness.request<{ state: { record: { status: string } } }>('GET', `/v1/audit/handoffs/CustomsMSP/${accepted}?asOf=${encodeURIComponent(new Date(new Date(receipt.timestamp).getTime() - 1).toISOString())}`, { token: auditor });
        expect(byTime.body.state.record.status, 'as of just before the receipt').to.equal('SENT');

        const [licenceNumber] = [...totals.drawn.keys()] as [string];
        const verified = (await harness.database.pool.query<{ declaration_number: string }>('SELECT declaration_number FROM verifications WHERE permit_number = $1::text', [licenceNumber])).rows[0]?.declaration_number as string;
        const verification = await harness.request<{ state: { record: { verdict: string } }; history: { mspId: string }[] }>('GET', `/v1/audit/verifications/${verified}/${encodeURIComponent(licenceNumber)}`, { token: auditor });
        expect([verification.body.state.record.verdict, verification.body.history.map((change) => change.mspId)]).to.deep.equal(['VALID', ['CustomsMSP']]);

        const caseId = (await harness.database.pool.query<{ case_id: string }>('SELECT case_id FROM cases LIMIT 1')).rows[0]?.case_id as string;
        const kase = await harness.request<{ state: { record: { status: string }; messages: unknown[] }; history: { call: string }[] }>('GET', `/v1/audit/cases/${caseId}`, { token: auditor });
        expect(kase.body.state.record.status).to.equal('OPEN');
        expect(kase.body.history[0]?.call).to.equal('cases:Open');

        expect((await harness.request('GET', `/v1/audit/cases/${caseId}`, { token: tokens.get('customs') })).status, 'auditors only').to.equal(403);
        expect((await harness.request('GET', `/v1/audit/cases/${caseId}?toBlock=3&asOf=2026-01-01T00:00:00Z`, { token: auditor })).status).to.equal(400);
    });

    it('runs a replay through the API, streams its progress, and keeps its report as JSON and PDF', async () => {
        const started = await harness.request<{ id: string; status: string }>('POST', '/v1/audit/replays', { token: auditor, body: {} });
        expect(started.status, started.text).to.equal(202);
        const stream = await harness.request<string>('GET', `/v1/audit/replays/${started.body.id}/progress`, { token: auditor });
        expect(stream.text, 'the stream ends with the replay').to.match(/event: done\ndata: /);
        let replay = await harness.request<{ status: string; report?: AuditReport }>('GET', `/v1/audit/replays/${started.body.id}`, { token: auditor });
        for (let tries = 0; replay.body.status === 'RUNNING' && tries < 100; tries++) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            replay = await harness.request('GET', `/v1/audit/replays/${started.body.id}`, { token: auditor });
        }
        expect(replay.body.status).to.equal('DONE');
        expect(replay.body.report?.verdict).to.equal('CLEAN');
        const pdf = await fetch(`${harness.url}/v1/audit/replays/${started.body.id}/report.pdf`, { headers: { Authorization: `Bearer ${auditor}` } });
        expect(pdf.status).to.equal(200);
        harness.checkAgainstContract('GET', `/v1/audit/replays/${started.body.id}/report.pdf`, pdf.status, pdf.headers.get('content-type') ?? '', '');
        const file = join(folder, 'report.pdf');
        await writeFile(file, Buffer.from(await pdf.arrayBuffer()));
        const { stdout } = await run('pdftotext', ['-layout', file, '-']);
        expect(stdout).to.include('Counterfoil ledger audit');
        expect(stdout.replace(/\s+/g, '')).to.include(replay.body.report?.lastBlockHash as string);
        const listed = await harness.request<{ id: string }[]>('GET', '/v1/audit/replays', { token: auditor });
        expect(listed.body.map((entry) => entry.id)).to.include(started.body.id);
        expect((await harness.request('POST', '/v1/audit/replays', { token: await harness.token(PERSONAS.customsAdmin), body: {} })).status).to.equal(403);
        expect((await harness.request('POST', '/v1/audit/replays', { token: auditor, body: { toBlock: -1 } })).status).to.equal(400);
    });

    it('reports a tampered ledger through the API as the command line does, and the command exits 3', async () => {
        const target = Math.floor((await height()) / 2);
        const row = (await harness.database.pool.query<{ key: Buffer; value: Buffer }>(
            "SELECT key, value FROM world_state WHERE namespace = 'counterfoil' AND position('handoff-confirmation'::bytea in key) > 0 LIMIT 1")).rows[0];
        const saved = (await harness.database.pool.query<{ data: Buffer }>('SELECT data FROM ledger_blocks WHERE number = $1::bigint', [target])).rows[0]?.data;
        await sql('UPDATE ledger_blocks SET data = overlay(data placing $2::bytea from 40 for 1) WHERE number = $1::bigint', [target, Buffer.from('#')]);
        await sql("UPDATE world_state SET value = $2::bytea WHERE namespace = 'counterfoil' AND key = $1::bytea", [row?.key, Buffer.from(`${row?.value.toString('utf8')} `)]);
        try {
            const started = await harness.request<{ id: string }>('POST', '/v1/audit/replays', { token: auditor, body: {} });
            expect(started.status, started.text).to.equal(202);
            const replay = await until(async () => {
                const answer = await harness.request<{ status: string; report?: AuditReport; error?: string }>('GET', `/v1/audit/replays/${started.body.id}`, { token: auditor });
                return answer.body.status === 'RUNNING' ? undefined : answer.body;
            }, 'the replay to end');
            expect(replay.status, replay.error).to.equal('DONE');
            const json = join(folder, 'tampered.json');
            const script = join(__dirname, '..', '..', 'scripts', 'audit.js');
            const failed = await run(process.execPath, [script, 'replay', '--report', json], { env: { ...process.env, DATABASE_URL: harness.database.url } })
                .catch((error: { code: number; stdout: string }) => error);
            expect(failed).to.deep.include({ code: 3 });
            const cli = JSON.parse(await readFile(json, 'utf8')) as AuditReport;
            expect(replay.report?.verdict).to.equal('PROBLEMS');
            expect(replay.report?.chain.problems).to.deep.equal(cli.chain.problems);
            expect(replay.report?.chain.problems.map((problem) => problem.blockNumber)).to.include(target);
            // The divergent key is a composite key, which starts with U+0000: kept as it is.
            expect(replay.report?.worldState.divergences).to.deep.equal(cli.worldState.divergences);
            expect(replay.report?.worldState.divergences.map((divergence) => divergence.key)).to.include(row?.key.toString('utf8'));
        } finally {
            await sql('UPDATE ledger_blocks SET data = $2::bytea WHERE number = $1::bigint', [target, saved]);
            await sql("UPDATE world_state SET value = $2::bytea WHERE namespace = 'counterfoil' AND key = $1::bytea", [row?.key, row?.value]);
        }
    });

    it('npm run audit replays from the command line, writes JSON and PDF reports, and stops where it is told', async () => {
        const script = join(__dirname, '..', '..', 'scripts', 'audit.js');
        const environment = { ...process.env, DATABASE_URL: harness.database.url };
        const json = join(folder, 'report.json');
        const full = await run(process.execPath, [script, 'replay', '--report', json], { env: environment });
        expect(full.stdout, full.stdout).to.match(/^CLEAN — blocks 0 to \d+/);
        expect(full.stderr).to.match(/replayed block \d+ of \d+ \(100 %\)/);
        const report = JSON.parse(await readFile(json, 'utf8')) as AuditReport;
        expect(report.verdict).to.equal('CLEAN');
        const partial = await run(process.execPath, [script, 'replay', '--to', '5'], { env: environment });
        expect(partial.stdout).to.match(/^CLEAN — blocks 0 to 5,/);
        expect(partial.stdout).to.include('world state: not compared (stopped before the tip)');
        const history = await run(process.execPath, [script, 'history', 'handoff', 'CustomsMSP', totals.transfers.find((transfer) => transfer.sender === 'CustomsMSP')?.messageId as string], { env: environment });
        expect((JSON.parse(history.stdout) as { history: { call: string }[] }).history[0]?.call).to.equal('handoffs:Send');
        const refused = await run(process.execPath, [script, 'replay', '--to', 'soon'], { env: environment }).catch((error: { code: number; stderr: string }) => error);
        expect(refused).to.deep.include({ code: 2 });
        expect((refused as { stderr: string }).stderr).to.match(/--to must be a block number/);
    });

    it('leaves to the next audit what blocks committed after the replayed tip changed, and still finds a version pushed past the tip by hand', async () => {
        const tip = (await height()) - 1;
        const [tipBlock] = await harness.ledger.history.blocks(tip, 1);
        // The audit began at `tip` (its replay goes that far); these commit while it runs. A
        // handoff forex never acknowledged is received now: keys present at the tip change or go
        // (its status index), new ones appear, and its row in the query tables changes.
        const waiting = (await harness.database.pool.query<{ sender: string; message_id: string; record: { payloadHash: string } }>(
            "SELECT sender, message_id, record FROM handoffs WHERE status = 'SENT' AND recipient = 'ForexMSP' ORDER BY message_id LIMIT 1")).rows[0];
        expect(waiting, 'a handoff forex has not received').to.not.equal(undefined);
        const forex = await harness.token(PERSONAS.forex);
        const receipt = await harness.request('POST', `/v1/handoffs/${waiting?.sender ?? ''}/${waiting?.message_id ?? ''}/receipt`, { token: forex, body: { payloadHash: waiting?.record.payloadHash } });
        expect(receipt.status, receipt.text).to.equal(200);
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        expect(await height()).to.be.greaterThan(tip + 1);
        const history = harness.ledger.history;
        const asAtTip: typeof history = { lastBlock: async () => tipBlock, blocks: (from, limit) => history.blocks(from, limit), statePages: (size) => history.statePages(size) };

        const report = await auditLedger(asAtTip, harness.database.pool);
        expect(report.scope).to.deep.include({ toBlock: tip, reachedTip: true });
        expect(report.worldState).to.deep.equal({ compared: true, divergences: [] });
        expect(report.queryTables).to.deep.equal({ compared: true, divergences: [] });
        expect(report.verdict).to.equal('CLEAN');

        // A row changed by hand and marked as written by the block after the tip: that block did not write it.
        const row = (await harness.database.pool.query<{ key: Buffer; value: Buffer; block_number: string; tx_index: number }>(
            "SELECT key, value, block_number, tx_index FROM world_state WHERE namespace = 'counterfoil' AND block_number < $1::bigint AND position('document-head'::bytea in key) > 0 LIMIT 1", [tip])).rows[0];
        expect(row).to.not.equal(undefined);
        const forged = await (async () => {
            await sql("UPDATE world_state SET value = $2::bytea, block_number = $3::bigint, tx_index = 0 WHERE namespace = 'counterfoil' AND key = $1::bytea", [row?.key, Buffer.from('{"version":99}'), tip + 1]);
            try {
                return await auditLedger(asAtTip, harness.database.pool);
            } finally {
                await sql("UPDATE world_state SET value = $2::bytea, block_number = $3::bigint, tx_index = $4::integer WHERE namespace = 'counterfoil' AND key = $1::bytea", [row?.key, row?.value, row?.block_number, row?.tx_index]);
            }
        })();
        expect(forged.worldState.divergences.map((divergence) => [divergence.key, divergence.problem])).to.deep.equal([[row?.key.toString('utf8'), 'value differs']]);
        expect(forged.verdict).to.equal('PROBLEMS');
    });

    it('has exercised every audit route, each answer checked against the OpenAPI document', () => {
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 2).join(' ')));
        const routes = harness.gateway.api.all.filter((route) => route.tag === 'Audit').map((route) => `${route.method.toUpperCase()} ${route.path}`);
        expect(routes.filter((route) => !seen.has(route))).to.deep.equal([]);
    });

    /**
     * Changes a stored block's data and writes matching data and header hashes, as someone with
     * write access to the database could for the last block; returns how to put it back.
     */
    async function rewriteBlock(number: number, change: (data: { transactions: unknown[] }) => void): Promise<() => Promise<void>> {
        const saved = (await harness.database.pool.query<{ data: Buffer; data_hash: Buffer; header_hash: Buffer; previous_hash: Buffer }>(
            'SELECT data, data_hash, header_hash, previous_hash FROM ledger_blocks WHERE number = $1::bigint', [number])).rows[0];
        const data = JSON.parse(saved?.data.toString('utf8') ?? '{}') as { transactions: unknown[] };
        change(data);
        const bytes = Buffer.from(canonicalJson(data), 'utf8');
        const dataHash = sha256Hex(bytes);
        const header = headerHash({ number, previousHash: saved?.previous_hash.toString('hex') ?? '', dataHash });
        await sql('UPDATE ledger_blocks SET data = $2::bytea, data_hash = $3::bytea, header_hash = $4::bytea WHERE number = $1::bigint',
            [number, bytes, Buffer.from(dataHash, 'hex'), Buffer.from(header, 'hex')]);
        return async () => {
            await sql('UPDATE ledger_blocks SET data = $2::bytea, data_hash = $3::bytea, header_hash = $4::bytea WHERE number = $1::bigint', [number, saved?.data, saved?.data_hash, saved?.header_hash]);
        };
    }
});
