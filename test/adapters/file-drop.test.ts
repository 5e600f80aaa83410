import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAdapterConfig, parseCsv, type TickReport } from '../../adapters';
import { DAY, isoIn } from '../conformance/fixtures';
import { GatewayHarness } from '../gateway/harness';
import { EXPORTER_USCC } from '../gateway/personas';

const sha256 = (value: Buffer | string): string => createHash('sha256').update(value).digest('hex');

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

    it('reads RFC 4180 CSV: quoted commas, doubled quotes, CRLF, and refuses a short line', () => {
        expect(parseCsv('a,b.c,size\r\n"x, y","say ""hi""",12\r\n')).to.deep.equal([{ a: 'x, y', b: { c: 'say "hi"' }, size: 12 }]);
        expect(() => parseCsv('a,b\n1\n')).to.throw(/line 2 has 1 fields/);
        expect(() => parseCsv('a\n"open\n')).to.throw(/not closed/);
    });

    it('needs a folder for file-drop and a system for http-feed, naming the field', () => {
        const base = { name: 'x', organisation: 'TaxMSP', schedule: '*/5 * * * * *', mode: 'relay', sends: [], receives: [] };
        expect(() => parseAdapterConfig({ adapters: [{ ...base, transport: 'file-drop' }] })).to.throw(/adapters\[0\]\.folder is required/);
        expect(() => parseAdapterConfig({ adapters: [{ ...base, transport: 'http-feed' }] })).to.throw(/adapters\[0\]\.system is required/);
    });
});
