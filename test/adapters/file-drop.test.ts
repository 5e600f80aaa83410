import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAdapterConfig, parseCsv, type TickReport } from '../../adapters';
import { DAY, isoIn } from '../conformance/fixtures';
import { GatewayHarness } from '../gateway/harness';
import { EXPORTER_USCC } from '../gateway/personas';

const sha256 = (value: Buffer | string): string => createHash('sha256').update(value).digest('hex');
const refusal = (promise: Promise<unknown>): Promise<string> => promise.then(() => 'no refusal', (error: Error) => error.message);

describe('the file-drop transport', function () {
    this.timeout(60_000);
    let root: string;
    let harness: GatewayHarness;
    const payload = (number: string): Buffer => Buffer.from(`<报关单 编号="${number}"/>`);

    async function run(name: string): Promise<TickReport> {
        const report = await harness.adapters.adapters.get(name)?.run() as TickReport;
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        return report;
    }

    async function status(messageId: string): Promise<string | undefined> {
        const result = await harness.database.pool.query<{ status: string }>("SELECT status FROM handoffs WHERE sender = 'CustomsMSP' AND message_id = $1::text", [messageId]);
        return result.rows[0]?.status;
    }

    before(async () => {
        root = await mkdtemp(join(tmpdir(), 'counterfoil-drop-'));
        const adapter = (name: string, organisation: string, sends: string[], receives: string[]): Record<string, unknown> => ({
            name, organisation, transport: 'file-drop', folder: join(root, name), schedule: '*/5 * * * * *', mode: 'relay', sends, receives,
        });
        harness = await GatewayHarness.start({
            adapters: parseAdapterConfig({ adapters: [adapter('customs', 'CustomsMSP', ['EXPORT_DECLARATION'], []), adapter('tax', 'TaxMSP', [], ['EXPORT_DECLARATION'])] }),
        });
        const outbox = join(root, 'customs', 'outbox');
        await mkdir(outbox, { recursive: true });
        const declarations = ['220120269100000001', '220120269100000002', '220120269100000003'];
        await writeFile(join(outbox, '001-declarations.json'), JSON.stringify(declarations.map((number) => ({
            kind: 'document', type: 'EXPORT_DECLARATION', number, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: payload(number).toString('base64'),
        }))));
        // CSV: dotted headers for nested fields; the second record names a document type customs does not send.
        await writeFile(join(outbox, '002-handoffs.csv'), [
            'kind,messageId,recipient,subject,document.type,document.number,payload',
            `handoff,DROP-1,TaxMSP,${EXPORTER_USCC},EXPORT_DECLARATION,${declarations[0]},${payload(declarations[0] as string).toString('base64')}`,
            `handoff,DROP-BAD,TaxMSP,${EXPORTER_USCC},LICENCE,LIC-1,${payload('x').toString('base64')}`,
            `handoff,DROP-2,TaxMSP,${EXPORTER_USCC},EXPORT_DECLARATION,${declarations[1]},"${payload(declarations[1] as string).toString('base64')}"`,
        ].join('\r\n'));
        await writeFile(join(outbox, '003-handoff.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<records><record><kind>handoff</kind><messageId>DROP-3</messageId><recipient>TaxMSP</recipient><subject>${EXPORTER_USCC}</subject>
<document><type>EXPORT_DECLARATION</type><number>${declarations[2]}</number></document><payload>${payload(declarations[2] as string).toString('base64')}</payload></record></records>`);
        await writeFile(join(outbox, '004-broken.json'), '{"kind": "handoff", ');
    });

    after(async () => {
        await harness?.stop();
        await rm(root, { recursive: true, force: true });
    });

    it('records JSON, CSV and XML files, quarantines the bad record, and files each file away', async () => {
        const report = await run('customs');
        expect(report).to.include({ recorded: 6, quarantined: 1 });
        for (const messageId of ['DROP-1', 'DROP-2', 'DROP-3']) {
            expect(await status(messageId), messageId).to.equal('SENT');
        }
        expect(await status('DROP-BAD')).to.equal(undefined);
        expect((await readdir(join(root, 'customs', 'processed'))).sort()).to.deep.equal(['outbox-001-declarations.json', 'outbox-002-handoffs.csv', 'outbox-003-handoff.xml']);
        expect((await readdir(join(root, 'customs', 'failed'))).sort()).to.deep.equal(['004-broken.json', '004-broken.json.reason.txt']);
        expect(await readFile(join(root, 'customs', 'failed', '004-broken.json.reason.txt'), 'utf8')).to.match(/JSON/);
        expect(await readdir(join(root, 'customs', 'outbox'))).to.deep.equal([]);
        const quarantined = await harness.database.pool.query<{ reason: string }>("SELECT reason FROM adapter_quarantine WHERE adapter = 'customs'");
        expect(quarantined.rows.map((row) => row.reason)).to.deep.equal(['document.type LICENCE is not among the types this adapter sends (EXPORT_DECLARATION)']);
        expect(await run('customs'), 'a second run finds nothing new').to.include({ recorded: 0, quarantined: 0 });
    });

    it('writes relayed payloads for the recipient to pick up, and records its decisions from its files', async () => {
        const delivered = await run('tax');
        expect(delivered).to.include({ delivered: 3, confirmed: 3 });
        const deliveries = join(root, 'tax', 'deliveries');
        const written = (await readdir(deliveries)).sort();
        expect(written.filter((name) => name.endsWith('.payload'))).to.have.length(3);
        const dropOne = await readFile(join(deliveries, 'CustomsMSP_DROP-1.payload'));
        expect(sha256(dropOne)).to.equal(sha256(payload('220120269100000001')));
        expect(await status('DROP-1')).to.equal('RECEIVED');
        const inbox = join(root, 'tax', 'inbox');
        await mkdir(inbox, { recursive: true });
        await writeFile(join(inbox, '001-decisions.csv'), [
            'kind,sender,messageId,decision,reasonCode,text',
            'DECIDED,CustomsMSP,DROP-1,ACCEPTED,,',
            'DECIDED,CustomsMSP,DROP-2,REJECTED,DATA_INCOMPLETE,"缺少发票号, 请补充"',
        ].join('\n'));
        expect(await run('tax')).to.include({ confirmed: 2 });
        expect(await status('DROP-1')).to.equal('ACCEPTED');
        expect(await status('DROP-2')).to.equal('REJECTED');
        const rejected = await harness.database.pool.query<{ text: string }>("SELECT record -> 'acknowledgement' ->> 'text' AS text FROM handoffs WHERE message_id = 'DROP-2'");
        expect(rejected.rows[0]?.text).to.equal('缺少发票号, 请补充');
    });

    it('reads RFC 4180 CSV: quoted commas, doubled quotes, CRLF, and refuses a short line', async () => {
        expect(await parseCsv('a,b.c,size\r\n"x, y","say ""hi""",12\r\n')).to.deep.equal([{ a: 'x, y', b: { c: 'say "hi"' }, size: 12 }]);
        expect(await refusal(parseCsv('a,b\n1\n'))).to.match(/line 2 has 1 fields/);
        expect(await refusal(parseCsv('a\n"open\n'))).to.match(/not closed/);
    });

    it('builds no object from a header that names __proto__, prototype or constructor', async () => {
        for (const header of ['__proto__.polluted', 'constructor.prototype.polluted', 'a.__proto__']) {
            expect(await refusal(parseCsv(`kind,${header}\nhandoff,yes\n`))).to.match(/is not a field name/);
        }
        expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });

    it('lets other work run while it reads a large CSV file', async () => {
        const rows = Array.from({ length: 40_000 }, (_unused, index) => `handoff,M-${index},TaxMSP`).join('\n');
        let turned = false;
        setImmediate(() => { turned = true; });
        const records = await parseCsv(`kind,messageId,recipient\n${rows}\n`);
        expect(records).to.have.length(40_000);
        expect(turned, 'the event loop turned while the file was read').to.equal(true);
    });

    it('needs a folder for file-drop and a system for http-feed, naming the field', () => {
        const base = { name: 'x', organisation: 'TaxMSP', schedule: '*/5 * * * * *', mode: 'relay', sends: [], receives: [] };
        expect(() => parseAdapterConfig({ adapters: [{ ...base, transport: 'file-drop' }] })).to.throw(/adapters\[0\]\.folder is required/);
        expect(() => parseAdapterConfig({ adapters: [{ ...base, transport: 'http-feed' }] })).to.throw(/adapters\[0\]\.system is required/);
    });
});

describe('the file-drop transport, given files a careless or hostile operator drops', function () {
    this.timeout(60_000);
    let root: string;
    let harness: GatewayHarness;
    let serial = 0;

    const drops = (...parts: string[]): string => join(root, 'drops', ...parts);
    async function run(name = 'drops'): Promise<TickReport> {
        const report = await harness.adapters.adapters.get(name)?.run() as TickReport;
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        return report;
    }
    function declaration(extra: Record<string, unknown> = {}): Record<string, unknown> {
        const number = `2201202692${String(++serial).padStart(8, '0')}`;
        return { kind: 'document', type: 'EXPORT_DECLARATION', number, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: 'ZGF0YQ==', ...extra };
    }
    async function onLedger(record: Record<string, unknown>): Promise<boolean> {
        return (await harness.database.pool.query('SELECT 1 FROM documents WHERE number = $1::text', [record.number])).rowCount === 1;
    }
    async function health(name = 'drops'): Promise<{ waiting: number | null; lastError: string | null }> {
        return await harness.adapters.adapters.get(name)?.health() as { waiting: number | null; lastError: string | null };
    }

    before(async () => {
        root = await mkdtemp(join(tmpdir(), 'counterfoil-drop-'));
        const adapter = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
            name, organisation: 'CustomsMSP', transport: 'file-drop', folder: join(root, name), schedule: '0 0 1 1 *', mode: 'relay', sends: ['EXPORT_DECLARATION'], receives: [], ...extra,
        });
        harness = await GatewayHarness.start({ adapters: parseAdapterConfig({ adapters: [adapter('drops', { maxFileBytes: 4096 }), adapter('linked')] }) });
        await mkdir(drops('outbox'), { recursive: true });
    });

    after(async () => {
        await harness?.stop();
        await rm(root, { recursive: true, force: true });
    });

    it('reads a file whose name sorts before the last one read, and one dropped again under a used name', async () => {
        const later = declaration();
        await writeFile(drops('outbox', 'm-x.json'), JSON.stringify(later));
        expect(await run()).to.include({ recorded: 1 });
        const earlier = declaration();
        await writeFile(drops('outbox', 'a-x.json'), JSON.stringify(earlier));
        const again = declaration();
        await writeFile(drops('outbox', 'm-x.json'), JSON.stringify(again));
        expect(await run()).to.include({ recorded: 2 });
        for (const record of [later, earlier, again]) {
            expect(await onLedger(record), String(record.number)).to.equal(true);
        }
        expect(await readdir(drops('outbox'))).to.deep.equal([]);
        expect((await readdir(drops('processed'))).sort()).to.deep.equal(['outbox-a-x.json', 'outbox-m-x.json', 'outbox-m-x.json.2']);
        expect(await health()).to.include({ waiting: 0 });
    });

    it('counts the files still waiting in its health when a run cannot finish', async () => {
        await rm(drops('processed'), { recursive: true });
        await writeFile(drops('processed'), 'not a folder');
        await writeFile(drops('outbox', 'b-1.json'), JSON.stringify(declaration()));
        await writeFile(drops('outbox', 'b-2.json'), JSON.stringify(declaration()));
        await writeFile(drops('outbox', '.b-3.json'), '{"still being written":');
        expect(await refusal(run())).to.match(/processed is not a folder/);
        const stuck = await health();
        expect(stuck.waiting, 'both files wait; the file being written is not counted').to.equal(2);
        expect(stuck.lastError).to.match(/processed is not a folder/);
        await rm(drops('processed'));
        await rm(drops('outbox', '.b-3.json'));
        expect(await run()).to.include({ recorded: 1 }); // the first was recorded before the run stopped
        expect(await health()).to.include({ waiting: 0, lastError: null });
    });

    it('never follows a symbolic link: a linked file goes to failed/ unread, a linked outbox is refused', async () => {
        const secret = join(root, 'secret.json');
        await writeFile(secret, '{"password": "hunter2"}');
        await symlink(secret, drops('outbox', 'c-linked.json'));
        await run();
        expect(await readdir(drops('outbox'))).to.deep.equal([]);
        const reason = await readFile(drops('failed', 'c-linked.json.reason.txt'), 'utf8');
        expect(reason).to.match(/symbolic link/);
        expect(reason).not.to.contain('hunter2');
        expect(await readFile(secret, 'utf8'), 'the link\'s target is untouched').to.equal('{"password": "hunter2"}');
        const elsewhere = join(root, 'elsewhere');
        await mkdir(elsewhere);
        await writeFile(join(elsewhere, 'theirs.json'), JSON.stringify(declaration()));
        await mkdir(join(root, 'linked'), { recursive: true });
        await symlink(elsewhere, join(root, 'linked', 'outbox'));
        expect(await refusal(run('linked'))).to.match(/outbox is a symbolic link/);
        expect(await readdir(elsewhere), 'another folder\'s files stay where they are').to.deep.equal(['theirs.json']);
    });

    it('sends a file over its size limit, one not in UTF-8 and XML declaring entities to failed/, each with its reason', async () => {
        await writeFile(drops('outbox', 'd-large.json'), JSON.stringify([declaration({ summary: { note: 'x'.repeat(200) } })]).padEnd(5000, ' '));
        await writeFile(drops('outbox', 'd-latin1.json'), Buffer.concat([Buffer.from('{"kind":"document","number":"'), Buffer.from([0xe9]), Buffer.from('"}')]));
        await writeFile(drops('outbox', 'd-entities.xml'), '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><records><record><kind>&b;</kind></record></records>');
        await run();
        expect(await readFile(drops('failed', 'd-large.json.reason.txt'), 'utf8')).to.match(/at most 4096 bytes \(the adapter's maxFileBytes\)/);
        expect(await readFile(drops('failed', 'd-latin1.json.reason.txt'), 'utf8')).to.match(/not UTF-8/);
        expect(await readFile(drops('failed', 'd-entities.xml.reason.txt'), 'utf8')).to.match(/may not declare a document type or entities/);
    });

    it('quarantines a record holding text no database can store, and goes on', async () => {
        const storable = declaration();
        await writeFile(drops('outbox', 'e-mixed.json'), `[${JSON.stringify(declaration()).replace('"ZGF0YQ=="', '"ZGF0YQ==","summary":{"holderName":"\\ud800"}')},${JSON.stringify(storable)}]`);
        expect(await run()).to.include({ recorded: 1, quarantined: 1 });
        expect(await onLedger(storable)).to.equal(true);
        const quarantined = await harness.database.pool.query<{ reason: string; name: string }>(
            "SELECT reason, record -> 'summary' ->> 'holderName' AS name FROM adapter_quarantine WHERE adapter = 'drops'");
        expect(quarantined.rows).to.deep.equal([{ reason: 'summary.holderName must be valid Unicode text (it holds an unpaired surrogate, which UTF-8 cannot carry)', name: '\\ud800' }]);
        expect(await readdir(drops('outbox'))).to.deep.equal([]);
    });
});
