import { type ChildProcess, spawn } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as ExcelJS from 'exceljs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { certificateXml, makeSigner, signXml } from '../support/foreign-certificates';
import { freePort } from '../support/postgres';
import { Inbox } from '../support/smtp';
import { until } from '../support/until';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Set to a folder (e.g. docs) to keep a screenshot of each page there. */
const SCREENSHOTS = process.env.COUNTERFOIL_SCREENSHOTS;

/**
 * The console in a real browser, against the real hub: `npm start` (scripts/start.js) with its
 * simulated agencies, PostgreSQL and embedded ledger, one flow per persona.
 */
describe('the web console, in Chromium, against the hub with its simulated agencies', function () {
    this.timeout(180_000);
    let folder: string;
    let hub: ChildProcess;
    let url: string;
    let browser: Browser;
    const output: string[] = [];
    /** The hub's mail goes to a real SMTP server of the test's. */
    const inbox = new Inbox();

    /** Waits for a condition, with the processes' output in the failure. */
    async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
        await until(check, what, { timeoutMs, intervalMs: 250, context: () => `hub output:\n${output.join('').slice(-3000)}` });
    }

    async function signedInAs(persona: RegExp): Promise<Page> {
        const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, locale: 'en-GB' });
        const problems: string[] = [];
        page.on('pageerror', (error) => problems.push(error.message));
        page.on('console', (message) => {
            if (message.type() === 'error') {
                problems.push(message.text());
            }
        });
        (page as Page & { problems?: string[] }).problems = problems;
        await page.goto(`${url}/console/`);
        await page.getByRole('button', { name: persona }).click();
        await page.getByRole('heading', { level: 1 }).waitFor();
        return page;
    }

    async function keep(page: Page, name: string): Promise<void> {
        if (SCREENSHOTS) {
            await page.evaluate('document.fonts.ready');
            await mkdir(SCREENSHOTS, { recursive: true });
            await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
        }
        expect((page as Page & { problems?: string[] }).problems, 'errors in the page').to.deep.equal([]);
    }

    before(async () => {
        await access(CHROMIUM).catch(() => {
            throw new Error(`Chromium is not at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH`);
        });
        folder = await mkdtemp(join(tmpdir(), 'counterfoil-test-pg-console-'));
        await chmod(folder, 0o755);
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        const smtpUrl = await inbox.start();
        hub = spawn(process.execPath, [join(__dirname, '..', '..', 'scripts', 'start.js')], {
            env: {
                ...process.env, DATABASE_URL: '', PORT: String(port), COUNTERFOIL_POSTGRES_PORT: String(await freePort()), COUNTERFOIL_DATA_DIR: folder, LOG_LEVEL: 'warn',
                SMTP_URL: smtpUrl, COUNTERFOIL_EMAIL_DIGEST_SECONDS: '1',
            },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        hub.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        hub.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        await waitFor(async () => (await fetch(`${url}/readyz`)).ok, 'the hub to be ready');
        // Wait for the simulated flow to have handed enough over, and decided some of it.
        const personas = await (await fetch(`${url}/console/personas.json`)).json() as { label: string; token: string }[];
        const auditor = personas.find((persona) => persona.label.startsWith('Auditor'))?.token as string;
        await waitFor(async () => {
            const overview = await (await fetch(`${url}/v1/overview`, { headers: { Authorization: `Bearer ${auditor}` } })).json() as { totals: { confirmed: number } };
            return overview.totals.confirmed >= 12;
        }, 'twelve confirmed handoffs', 90_000);
        browser = await chromium.launch({
            executablePath: CHROMIUM,
            args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
        });
    });

    after(async () => {
        await browser?.close();
        if (hub && hub.exitCode === null) {
            const exited = new Promise((resolve) => hub.once('exit', resolve));
            hub.kill('SIGINT');
            await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
            hub.kill('SIGKILL');
        }
        await rm(folder, { recursive: true, force: true });
        await inbox.stop();
    });

    it('prints where the console is and who one may sign in as', () => {
        const text = output.join('');
        expect(text).to.include(`Console: ${url}/console/`);
        expect(text).to.match(/sign in as one of: Customs officer/);
    });

    it('shows a customs officer the overview: handoffs per agency pair, lag, throughput and adapter health', async () => {
        const page = await signedInAs(/Customs officer/);
        await page.getByRole('heading', { name: 'Overview' }).waitFor();
        const pairs = page.locator('table').first();
        await expect(await pairs.locator('tbody tr').count()).to.be.greaterThan(1);
        expect(await pairs.innerText()).to.match(/Commerce\s+Customs\s+\d+/);
        expect(await page.getByRole('img', { name: /Handoffs sent per minute/ }).count()).to.equal(1);
        // ECharts draws each chart as SVG with its axes' names and the pairs by name.
        await page.locator('figure.chart svg').nth(2).waitFor();
        const charts = await page.locator('figure.chart').allInnerTexts();
        expect(charts.join('\n')).to.include('handoffs / min').and.include('Customs → Tax').and.include('handoffs overdue');
        // Each lag sits under its recipient's heading: the value's text and the heading's text overlap across.
        const misplaced = await page.evaluate(`(() => {
            const box = (element) => { const range = document.createRange(); range.selectNodeContents(element); return range.getBoundingClientRect(); };
            const table = document.querySelector('table.matrix');
            const headings = [...table.querySelectorAll('thead th')];
            const found = [];
            let values = 0;
            for (const row of table.querySelectorAll('tbody tr')) {
                for (const cell of row.children) {
                    if (cell.tagName !== 'TD' || cell.textContent === '') continue;
                    values++;
                    const value = box(cell);
                    const heading = box(headings[cell.cellIndex]);
                    if (value.right < heading.left || value.left > heading.right) found.push(row.firstChild.textContent + ' → ' + headings[cell.cellIndex].textContent + ': ' + cell.textContent);
                }
            }
            return { values, found };
        })()`) as { values: number; found: string[] };
        expect(misplaced.values, 'the matrix holds lags').to.be.greaterThan(0);
        expect(misplaced.found, 'values under another column\'s heading').to.deep.equal([]);
        const adapters = page.locator('table').last();
        for (const name of ['sim-commerce', 'sim-customs', 'sim-forex', 'sim-inspection', 'sim-tax']) {
            expect(await adapters.innerText()).to.include(name);
        }
        await keep(page, 'overview');
        await page.close();
    });

    it('lets the customs officer verify a licence: the verdict, and the balance left', async () => {
        const page = await signedInAs(/Customs officer/);
        const token = await page.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
        const licences = await (await fetch(`${url}/v1/documents?type=LICENCE&limit=1`, { headers: { Authorization: `Bearer ${token}` } })).json() as { items: { number: string; holder: string; permit: { goods: { hsCode: string; unit: string }[] } }[] };
        const licence = licences.items[0];
        expect(licence, 'a licence issued by the simulated commerce agency').to.not.equal(undefined);
        await page.getByRole('link', { name: 'Verify a permit' }).click();
        await page.getByLabel('Declaration number').fill('220120269999000001');
        await page.getByLabel('Licence number').fill(licence?.number as string);
        await page.getByLabel('Holder (USCC)').fill(licence?.holder as string);
        await page.getByLabel('HS code').fill(licence?.permit.goods[0]?.hsCode as string);
        await page.getByLabel('Quantity').fill('1');
        await page.getByLabel('Unit').fill(licence?.permit.goods[0]?.unit as string);
        await page.getByRole('button', { name: 'Verify a permit' }).click();
        await page.getByText('Verdict: VALID').waitFor();
        expect(await page.locator('.result table').innerText()).to.match(/\d+ (TNE|KGM)\s+\d+\s+\d+/);
        expect(await page.locator('.result').innerText()).to.match(/Uses remaining: \d+/);
        await keep(page, 'verify');
        await page.close();
    });

    it('shows tax the unconfirmed transfers addressed to it, and a case on one of its handoffs, which it resolves', async () => {
        const page = await signedInAs(/Tax refund desk/);
        await page.getByRole('link', { name: 'Unconfirmed transfers' }).click();
        await page.getByRole('heading', { name: 'Unconfirmed transfers' }).waitFor();
        expect(await page.locator('select[name="recipient"]').inputValue()).to.equal('TaxMSP');
        await keep(page, 'unconfirmed');
        // A dispute on a declaration handed to tax, opened by tax.
        const token = await page.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
        const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
        const handoffs = await (await fetch(`${url}/v1/handoffs?recipient=TaxMSP&limit=1`, { headers })).json() as { items: { sender: string; messageId: string }[] };
        const handoff = handoffs.items[0] as { sender: string; messageId: string };
        const opened = await fetch(`${url}/v1/cases`, { method: 'POST', headers, body: JSON.stringify({ caseId: `UI-${handoff.messageId}`, subject: { kind: 'HANDOFF', sender: handoff.sender, messageId: handoff.messageId }, reason: 'DATA_ERROR' }) });
        expect(opened.status, await opened.text()).to.equal(201);
        await page.getByRole('link', { name: 'Cases' }).click();
        await page.getByRole('link', { name: `UI-${handoff.messageId}` }).click();
        await page.getByRole('heading', { name: `Cases · UI-${handoff.messageId}` }).waitFor();
        expect(await page.locator('dl').innerText()).to.match(/Status\s+OPEN/);
        await keep(page, 'case');
        await page.getByLabel('Outcome').fill('CORRECTED_AND_RESENT');
        await page.getByRole('button', { name: 'Resolve' }).click();
        await page.getByText(/CORRECTED_AND_RESENT \(Tax, /).waitFor();
        expect(await page.locator('dl').innerText()).to.match(/Status\s+RESOLVED/);
        await page.close();
    });

    it('shows the exporter its declarations a page at a time, and where each one\'s data went: a timeline per agency, with proofs to download', async () => {
        const page = await signedInAs(/Exporter/);
        await page.getByRole('heading', { name: 'Trace' }).waitFor();
        await page.getByRole('heading', { name: 'Declarations' }).waitFor();
        const rows = page.locator('table tbody tr');
        expect(await rows.count(), 'one page').to.be.within(1, 20);
        expect(await page.evaluate('document.documentElement.scrollHeight') as number, 'a page of a long list stays short').to.be.below(1600);
        if (await page.getByRole('link', { name: 'Next page' }).count() > 0) {
            const first = await rows.first().locator('a').innerText();
            await page.getByRole('link', { name: 'Next page' }).click();
            await page.getByRole('link', { name: 'First page' }).waitFor();
            const next = await rows.first().locator('a').innerText();
            expect(next < first, `the next page holds older declarations (${next} after ${first})`).to.equal(true);
        }
        await rows.first().locator('a').click();
        await page.locator('.timeline').first().waitFor();
        const timelines = await page.locator('.timeline h3').allInnerTexts();
        expect(timelines.filter((name) => !['Tax', 'Forex'].includes(name)), 'a declaration goes to tax and forex').to.deep.equal([]);
        const download = page.waitForEvent('download');
        await page.getByRole('button', { name: 'Proof (PDF)' }).first().click();
        expect((await download).suggestedFilename()).to.match(/^proof-.+\.pdf$/);
        expect(await page.getByRole('link', { name: 'Overview' }).count(), 'enterprises have no overview').to.equal(0);
        await keep(page, 'trace');
        await page.close();
    });

    it('lets the exporter export its handoffs as CSV, and as an Excel workbook with Chinese headings', async () => {
        const page = await signedInAs(/Exporter/);
        const token = await page.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
        const { uscc } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as { uscc: string };
        await page.getByRole('link', { name: 'Export' }).click();
        await page.getByRole('heading', { name: 'Export' }).waitFor();
        await page.locator('select[name="dataset"]').selectOption('handoffs');
        const csv = page.waitForEvent('download');
        await page.getByRole('button', { name: 'Download' }).click();
        expect((await csv).suggestedFilename()).to.match(/^counterfoil-handoffs-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
        const [headings, ...rows] = (await readFile(await (await csv).path(), 'utf8')).replace(/^\uFEFF/, '').trim().split('\r\n');
        expect(headings).to.match(/^Sender,Message id,Recipient,Subject \(USCC\),/);
        expect(rows.length, 'the simulated flow handed the exporter\'s data over').to.be.greaterThan(0);
        expect(rows.filter((row) => !row.includes(uscc)), 'only the exporter\'s own handoffs').to.deep.equal([]);
        await page.getByText(/^Downloaded: counterfoil-handoffs-/).waitFor();
        await page.getByRole('button', { name: '中文' }).click();
        await page.getByRole('heading', { name: '导出' }).waitFor();
        await page.locator('select[name="format"]').selectOption('xlsx');
        const xlsx = page.waitForEvent('download');
        await page.getByRole('button', { name: '下载' }).click();
        const workbook = new ExcelJS.Workbook();
        await workbook.xlsx.readFile(await (await xlsx).path());
        const sheet = workbook.getWorksheet('Handoffs');
        expect((sheet?.getRow(1).values as unknown[]).slice(1, 4)).to.deep.equal(['发送机构', '报文编号', '接收机构']);
        expect(sheet?.rowCount, 'headings and the exporter\'s handoffs').to.be.greaterThan(1);
        await keep(page, 'export-zh');
        await page.close();
    });

    it('lets the licensing officer check a file of licences, read the per-row results, and issue the good rows (in Chinese)', async () => {
        const page = await signedInAs(/Licensing officer/);
        await page.getByRole('link', { name: 'Import' }).click();
        await page.getByRole('heading', { name: 'Import' }).waitFor();
        const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
        const number = `LIC-CONSOLE-${Date.now()}`;
        const file = [
            'type,number,holder,validFrom,validTo,direction,useLimit,hsCode,quantity,unit',
            `LICENCE,${number},91350100M000100Y43,${day(-1)},${day(200)},EXPORT,3,7208510000,100,TNE`,
            `LICENCE,${number}-B,91350100M000100Y43,${day(-1)},${day(200)},EXPORT,3,72085100,100,TNE`,
        ].join('\r\n');
        await page.locator('input[name="file"]').setInputFiles({ name: 'licences.csv', mimeType: 'text/csv', buffer: Buffer.from(file) });
        await page.getByRole('button', { name: 'Upload' }).click();
        const row = page.locator('tbody tr', { hasText: 'licences.csv' }).first();
        await row.getByText('valid 1 · invalid 1').waitFor({ timeout: 60_000 });
        const results = page.waitForEvent('download');
        await row.getByRole('button', { name: 'CSV' }).click();
        const lines = (await readFile(await (await results).path(), 'utf8')).replace(/^\uFEFF/, '').trim().split('\r\n');
        expect(lines[0]).to.equal('Row,Type,Number,Result,Column,Problem,Ledger transaction');
        expect(lines[2]).to.match(/^3,LICENCE,.*-B,invalid,hsCode,must be a 10-digit HS code,$/);
        await page.getByRole('button', { name: '中文' }).click();
        await page.getByRole('heading', { name: '导入' }).waitFor();
        const chinese = page.locator('tbody tr', { hasText: 'licences.csv' }).first();
        await chinese.getByRole('button', { name: '签发无误的行' }).click();
        // The check's row was DONE already: wait for the submission's results and its own end.
        await page.locator('tbody tr').filter({ hasText: 'licences.csv' }).filter({ hasText: '已签发 1 · 有误 1' })
            .filter({ has: page.getByRole('cell', { name: '完成', exact: true }) }).waitFor({ timeout: 60_000 });
        await keep(page, 'import-zh');
        await page.close();
    });

    it('lets the exporter write about a declaration with a scan attached, and the tax desk read it, new, in Chinese', async () => {
        const exporter = await signedInAs(/Exporter/);
        const token = await exporter.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
        const declarations = await (await fetch(`${url}/v1/documents?type=EXPORT_DECLARATION&limit=1`, { headers: { Authorization: `Bearer ${token}` } })).json() as { items: { number: string }[] };
        const number = declarations.items[0]?.number as string;
        expect(number, 'the simulated flow declared an export for the exporter').to.match(/^[0-9]{18}$/);
        await exporter.goto(`${url}/console/#/trace?declaration=${number}`);
        await exporter.getByRole('heading', { name: 'Messages about this declaration' }).waitFor();
        const text = `退税资料已补充，发票扫描件见附件。${Date.now()}`;
        await exporter.locator('form.compose textarea[name="text"]').fill(text);
        await exporter.locator('form.compose input[name="files"]').setInputFiles({ name: '发票.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7\n% invoice scan\n%%EOF\n') });
        await exporter.getByRole('button', { name: 'Send' }).click();
        await exporter.locator('ol.thread li', { hasText: text }).waitFor();
        expect(await exporter.locator('p.ok').first().innerText()).to.match(/^Every message on the ledger is here, unaltered/);
        await exporter.close();

        const tax = await signedInAs(/Tax refund desk/);
        const taxToken = await tax.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
        const unread = async (): Promise<string[]> => ((await (await fetch(`${url}/v1/threads/unread`, { headers: { Authorization: `Bearer ${taxToken}` } })).json()) as { thread: string }[]).map((entry) => entry.thread);
        expect(await unread(), 'unread by the tax desk before it looks').to.include(`document/EXPORT_DECLARATION/${number}`);
        await tax.getByRole('button', { name: '中文' }).click();
        await tax.goto(`${url}/console/#/trace?declaration=${number}`);
        await tax.getByRole('heading', { name: '关于此报关单的消息' }).waitFor();
        const message = tax.locator('ol.thread li', { hasText: text });
        await message.waitFor();
        expect(await message.getAttribute('class'), 'new to the tax desk').to.equal('unread');
        expect(await message.innerText()).to.include('新');
        const download = tax.waitForEvent('download');
        await message.getByRole('button', { name: '发票.pdf' }).click();
        expect((await download).suggestedFilename()).to.equal('发票.pdf');
        expect((await readFile(await (await download).path())).toString('latin1')).to.match(/^%PDF-1\.7/);
        expect(await unread(), 'read once shown').to.not.include(`document/EXPORT_DECLARATION/${number}`);
        await keep(tax, 'thread-zh');
        await tax.close();
    });

    it('lets the exporter ask for e-mail in Chinese, and mails arrive with links back to the console', async () => {
        const page = await signedInAs(/Exporter/);
        await page.getByRole('button', { name: '中文' }).click();
        await page.getByRole('link', { name: '通知' }).click();
        await page.getByRole('heading', { name: '通知' }).waitFor();
        const address = 'zhang.wei@exporter.example.cn';
        await page.locator('input[name="address"]').fill(address);
        await page.locator('select[name="language"]').selectOption('zh');
        for (const topic of await page.locator('input[name="topics"]').all()) {
            await topic.check();
        }
        await page.getByRole('button', { name: '保存' }).click();
        await page.locator('input[name="address"][value="zhang.wei@exporter.example.cn"]').waitFor();
        // Customs writes to the exporter about one of its declarations.
        const token = await page.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
        const declarations = await (await fetch(`${url}/v1/documents?type=EXPORT_DECLARATION&limit=1`, { headers: { Authorization: `Bearer ${token}` } })).json() as { items: { number: string }[] };
        const number = declarations.items[0]?.number as string;
        const personas = await (await fetch(`${url}/console/personas.json`)).json() as { label: string; token: string }[];
        const customs = personas.find((persona) => persona.label.startsWith('Customs officer'))?.token as string;
        const written = await fetch(`${url}/v1/documents/EXPORT_DECLARATION/${number}/thread`, {
            method: 'POST', headers: { Authorization: `Bearer ${customs}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ text: '请补充装箱单。' }),
        });
        expect(written.status).to.equal(201);
        await waitFor(async () => inbox.to(address).some((mail) => mail.text?.includes(number) === true), 'the mail to the exporter', 120_000);
        const mail = inbox.to(address).find((candidate) => candidate.text?.includes(number));
        expect(mail?.subject).to.match(/^【存根】/);
        expect(mail?.text).to.include(`海关发来新消息`);
        expect(mail?.text).to.include(`${url}/console/#/trace?declaration=${number}`);
        await page.reload();
        await page.locator('table tbody tr', { hasText: '已发送' }).first().waitFor();
        await keep(page, 'notifications-zh');
        await page.close();
    });

    it('lets the hub administrator keep the registry of foreign authorities, and customs receive a certificate whose signer is not on file, with a case saying why', async () => {
        const [signer, stranger] = await Promise.all([makeSigner('CN=Plant Export Certification, O=DAFF, C=AU'), makeSigner('CN=Unknown signer, C=AU')]);
        const admin = await signedInAs(/Hub administrator/);
        await admin.getByRole('link', { name: 'Foreign certificates' }).click();
        await admin.getByRole('heading', { name: 'Register an authority' }).waitFor();
        const fields = { authorityId: 'AU-DAFF', country: 'AU', name: 'Department of Agriculture, Fisheries and Forestry', contact: 'exportcerts@agriculture.example.au' };
        for (const [name, value] of Object.entries(fields)) {
            await admin.locator(`input[name="${name}"]`).fill(value);
        }
        await admin.getByRole('button', { name: 'Register', exact: true }).click();
        const authority = admin.locator('article[data-authority="AU-DAFF"]');
        await authority.locator('textarea[name="certificate"]').fill(signer.pem);
        await authority.getByRole('button', { name: 'Put on file' }).click();
        await authority.locator('td', { hasText: 'CN=Plant Export Certification' }).waitFor();
        await keep(admin, 'foreign-registry');
        await admin.close();

        const personas = await (await fetch(`${url}/console/personas.json`)).json() as { label: string; token: string }[];
        const exporterToken = personas.find((persona) => persona.label.startsWith('Exporter'))?.token as string;
        const consignee = (JSON.parse(Buffer.from(exporterToken.split('.')[1] as string, 'base64url').toString()) as { uscc: string }).uscc;
        const number = `AU-PC-${Date.now()}`;
        const xml = signXml(certificateXml({ number, authorityId: 'AU-DAFF', issuedAt: new Date(Date.now() - 3_600_000).toISOString(), consignee }), stranger);
        const officer = await signedInAs(/Customs officer/);
        await officer.getByRole('button', { name: '中文' }).click();
        await officer.getByRole('link', { name: '境外证书' }).click();
        await officer.getByRole('heading', { name: '接收已签名证书' }).waitFor();
        await officer.locator('input[name="file"]').setInputFiles({ name: `${number}.xml`, mimeType: 'application/xml', buffer: Buffer.from(xml) });
        await officer.getByRole('button', { name: '上传' }).click();
        const row = officer.locator('table tbody tr', { hasText: number });
        await row.getByText('签名不符').waitFor();
        await row.getByRole('link', { name: '签名证书未备案' }).click();
        const findings = officer.locator('dl.findings');
        await findings.waitFor();
        expect(await findings.innerText()).to.include('应为').and.include('实为').and.include('CN=Unknown signer');
        expect(await officer.locator('main').innerText(), 'the consignee and the authority are parties').to.include(consignee).and.include('AU-DAFF');
        await keep(officer, 'foreign-case-zh');
        await officer.close();
        await waitFor(async () => inbox.to(fields.contact).some((mail) => mail.subject?.includes(number) === true), 'the mail to the foreign authority');
    });

    it('shows every page in English and all of it in Chinese: agencies, statuses, roles, reasons and dates included', async () => {
        /** The ledger's codes and the English that must not show through on a Chinese page (an id such as EXP-…-TaxMSP aside). */
        const untranslated = /(?<![-\w])(CustomsMSP|CommerceMSP|TaxMSP|ForexMSP|InspectionMSP|ACCEPTED|REJECTED|RECEIVED|SENT|OPEN|RESOLVED|WITHDRAWN|ACTIVE|EXHAUSTED|NOT_RECEIVED|DATA_ERROR|NOT_DELIVERED|NOT_ACKNOWLEDGED|Customs|Commerce|Forex|Inspection|Status|Sender|Recipient|Overdue)(?![-\w])/;
        const usDate = /\b\d{1,2}\/\d{1,2}\/\d{4}\b/;
        const visits: [RegExp, string[]][] = [
            [/Customs officer/, ['overview', 'unconfirmed', 'cases', 'trace', 'verify', 'import', 'export', 'notifications', 'foreign']],
            [/Exporter/, ['unconfirmed', 'cases', 'trace', 'export', 'notifications', 'foreign']],
            [/Auditor/, ['overview', 'cases', 'audit', 'import', 'export', 'foreign']],
        ];
        for (const [persona, names] of visits) {
            const page = await signedInAs(persona);
            const token = await page.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
            const cases = await (await fetch(`${url}/v1/cases?limit=1`, { headers: { Authorization: `Bearer ${token}` } })).json() as { items: { caseId: string }[] };
            const declarations = await (await fetch(`${url}/v1/documents?type=EXPORT_DECLARATION&limit=1`, { headers: { Authorization: `Bearer ${token}` } })).json() as { items: { number: string }[] };
            const routes = [...names, ...(cases.items[0] ? [`cases/${cases.items[0].caseId}`] : []), ...(declarations.items[0] ? [`trace?declaration=${declarations.items[0].number}`] : [])];
            for (const language of ['en', 'zh']) {
                if (language === 'zh') {
                    await page.getByRole('button', { name: '中文' }).click();
                    await page.locator('main[data-language="zh"]:not([aria-busy])').waitFor();
                }
                for (const route of routes) {
                    await page.goto(`${url}/console/#/${route}`);
                    // The page asked for, in the language asked for, rendered to its end.
                    await page.locator(`main[data-route="#/${route}"][data-language="${language}"]:not([aria-busy])`).waitFor();
                    const text = await page.locator('body').innerText();
                    expect(text, `${route} in ${language}`).to.not.match(/Your role cannot see this page|当前身份无权查看此页面/);
                    if (language === 'zh') {
                        const found = untranslated.exec(text);
                        expect(found && text.slice(Math.max(0, found.index - 60), found.index + 60), `${route} in Chinese shows English`).to.equal(null);
                        expect(text.match(usDate)?.[0], `${route} in Chinese writes a date the US way`).to.equal(undefined);
                        // The signed-in role by its Chinese name (the user's own name stays as it is).
                        expect(await page.locator('header .who').innerText()).to.match(/经办人|审计员|企业/);
                    }
                }
            }
            await keep(page, `pages-${persona.source.replace(/\W/g, '').toLowerCase()}-zh`);
            await page.close();
        }
    });

    it('lets the forex desk pin a filtered page to its favourites (收藏夹), which the hub keeps for its next sign-in', async () => {
        const page = await signedInAs(/Forex receipts desk/);
        await page.getByRole('button', { name: '中文' }).click();
        await page.goto(`${url}/console/#/unconfirmed?recipient=ForexMSP&overdue=true`);
        await page.getByRole('heading', { name: '未确认传递' }).waitFor();
        await page.getByRole('button', { name: '☆ 收藏此页' }).click();
        const favourites = page.getByRole('navigation', { name: '收藏夹' });
        const pinned = favourites.getByRole('link', { name: '未确认传递 · 接收方: 外汇 · 逾期: ✓' });
        await pinned.waitFor();
        await page.close();

        // Another browser, in English: the hub kept the favourite.
        const again = await signedInAs(/Forex receipts desk/);
        await again.getByRole('navigation', { name: 'Favourites' }).getByRole('link', { name: '未确认传递 · 接收方: 外汇 · 逾期: ✓' }).click();
        await again.waitForFunction('location.hash === "#/unconfirmed?recipient=ForexMSP&overdue=true"');
        expect(await again.locator('input[name="overdue"]').isChecked(), 'the filter comes back with the page').to.equal(true);
        await keep(again, 'favourites');
        await again.getByRole('button', { name: 'Remove 未确认传递 · 接收方: 外汇 · 逾期: ✓' }).click();
        await again.getByRole('navigation', { name: 'Favourites' }).getByText('none yet').waitFor();
        await again.close();
    });

    it('lets the auditor replay the ledger with live progress, see it clean, and download the report', async function () {
        this.timeout(900_000);
        const page = await signedInAs(/Auditor/);
        await page.getByRole('link', { name: 'Audit' }).click();
        await page.getByRole('button', { name: 'Replay the ledger from block 0' }).click();
        // However long the replay takes on a busy machine, it ends in a verdict (or a failure,
        // which the next line reports): wait for that, not for a time.
        await page.locator('.result .verdict, .result .warn, .result .error').first().waitFor({ timeout: 600_000 });
        const result = await page.locator('.result').innerText();
        if (!/^Report: CLEAN$/m.test(result)) {
            // Say what the audit found: the report of the newest replay, from the API.
            const token = await page.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
            const headers = { Authorization: `Bearer ${token}` };
            const [newest] = await (await fetch(`${url}/v1/audit/replays`, { headers })).json() as { id: string }[];
            const { report } = await (await fetch(`${url}/v1/audit/replays/${newest?.id ?? ''}`, { headers })).json() as { report?: Record<string, unknown> };
            expect.fail(`${result}\n${JSON.stringify({ chain: report?.chain, signatures: report?.signatures, validationCodes: report?.validationCodes, worldState: report?.worldState, queryTables: report?.queryTables, scope: report?.scope })}`);
        }
        expect(await page.locator('progress').getAttribute('value')).to.equal('100');
        expect(await page.locator('dd code').innerText()).to.match(/^[0-9a-f]{64}$/);
        const download = page.waitForEvent('download');
        await page.getByRole('button', { name: 'Download the PDF' }).click();
        expect((await download).suggestedFilename()).to.match(/^audit-.+\.pdf$/);
        await keep(page, 'audit');
        await page.close();
    });

    it('shows commerce and forex only the pairs they are part of, and filters the board by age', async () => {
        const commerce = await signedInAs(/Licensing officer/);
        await commerce.getByRole('heading', { name: 'Overview' }).waitFor();
        const pairs = (await commerce.locator('table').first().locator('tbody tr').allInnerTexts()).map((row) => row.split('\t').slice(0, 2).join('→'));
        expect(pairs).to.deep.equal(['Commerce→Customs']);
        await commerce.close();
        const forex = await signedInAs(/Forex receipts desk/);
        await forex.getByRole('link', { name: 'Unconfirmed transfers' }).click();
        expect(await forex.locator('select[name="recipient"]').inputValue()).to.equal('ForexMSP');
        await forex.locator('select[name="minAgeSeconds"]').selectOption('60');
        await forex.getByRole('button', { name: 'Filter' }).click();
        await forex.waitForURL(/minAgeSeconds=60/);
        expect(await forex.locator('select[name="minAgeSeconds"]').inputValue()).to.equal('60');
        await forex.close();
    });

    it('lets the auditor trace any enterprise by its USCC', async () => {
        const auditor = await signedInAs(/Auditor/);
        const token = await auditor.evaluate('sessionStorage.getItem("counterfoil.token")') as string;
        const handoffs = await (await fetch(`${url}/v1/handoffs?recipient=TaxMSP&limit=1`, { headers: { Authorization: `Bearer ${token}` } })).json() as { items: { subject: string }[] };
        await auditor.getByRole('link', { name: 'Trace' }).click();
        await auditor.getByLabel('USCC').fill(handoffs.items[0]?.subject as string);
        await auditor.getByRole('button', { name: 'Search' }).click();
        // The enterprise's declarations, each opening its own timeline.
        await auditor.getByRole('heading', { name: 'Declarations' }).waitFor();
        await auditor.locator('table tbody tr a').first().click();
        await auditor.locator('.timeline h3', { hasText: 'Tax' }).waitFor();
        await auditor.close();
    });

    it('speaks Chinese at the press of a button, and can be used with the keyboard', async () => {
        const page = await signedInAs(/Customs officer/);
        await page.getByRole('button', { name: '中文' }).click();
        await page.getByRole('heading', { name: '总览' }).waitFor();
        expect(await page.getByRole('navigation', { name: 'pages', exact: true }).innerText()).to.include('未确认传递');
        expect(await page.evaluate('document.documentElement.lang')).to.equal('zh-CN');
        // Tab from the top of the page reaches the skip link first.
        await page.reload();
        await page.getByRole('heading', { name: '总览' }).waitFor();
        await page.keyboard.press('Tab');
        expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).to.equal('Skip to content');
        await keep(page, 'overview-zh');
        await page.getByRole('button', { name: 'English' }).click();
        await page.close();
    });
});
