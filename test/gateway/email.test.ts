import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { DAY, declarationNumber, isoIn } from '../conformance/fixtures';
import { Inbox } from '../support/smtp';
import { until } from '../support/until';
import { type Answer, exercised, GatewayHarness } from './harness';
import { EXPORTER_USCC, type Persona } from './personas';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const PUBLIC_URL = 'https://counterfoil.example.gov.cn';

describe('e-mail notifications, through a real SMTP server', function () {
    this.timeout(120_000);
    const inbox = new Inbox();
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    /** The notifier's clock: it moves only when a test moves it. */
    let now = Date.now();
    const declaration = declarationNumber();
    const caseId = `MAIL-CASE-${Date.now()}`;
    const addresses = { exporter: 'zhang.wei@exporter.example.cn', customs: 'officer.2201@customs.example.gov.cn', tax: 'refund-desk@tax.example.gov.cn' };

    async function as<T = unknown>(persona: Persona, method: string, path: string, body?: unknown): Promise<Answer<T>> {
        return harness.request<T>(method, path, { token: tokens.get(persona), body });
    }

    async function waiting(address: string): Promise<number> {
        const { rows: [row] } = await harness.database.pool.query<{ count: string }>(
            `SELECT count(*) FROM email_notifications n JOIN email_subscriptions s ON s.owner = n.owner WHERE s.address = $1 AND n.delivery_id IS NULL`, [address]);
        return Number(row?.count);
    }

    before(async () => {
        const smtpUrl = await inbox.start();
        harness = await GatewayHarness.start({
            email: { smtpUrl, publicUrl: PUBLIC_URL, now: () => new Date(now), digestMs: 60_000, idleMs: 25, maxAttempts: 3, backoffBaseMs: 60_000 },
        });
        tokens = await harness.personaTokens();
        const issued = await as('customs', 'POST', '/v1/documents', {
            type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: Buffer.from(declaration).toString('base64'),
        });
        expect(issued.status, issued.text).to.equal(201);
    });

    after(async () => {
        await harness?.stop();
        await inbox.stop();
    });

    it('lets each principal choose its topics, language and address, and refuses what is not an address', async () => {
        const exporter = await as<{ topics: string[] }>('exporter', 'PUT', '/v1/notifications/email', { address: addresses.exporter, language: 'zh', topics: ['HANDOFF_REJECTED', 'MESSAGE_RECEIVED', 'CASE_OPENED'] });
        expect(exporter.status, exporter.text).to.equal(200);
        expect((await as('customs', 'PUT', '/v1/notifications/email', { address: addresses.customs, language: 'en', topics: ['CASE_OPENED', 'MESSAGE_RECEIVED', 'HANDOFF_OVERDUE'] })).status).to.equal(200);
        expect((await as('tax', 'PUT', '/v1/notifications/email', { address: addresses.tax, language: 'en', topics: ['CASE_OPENED'] })).status).to.equal(200);
        const bad = await as('exporter', 'PUT', '/v1/notifications/email', { address: 'zhang.wei@exporter.example.cn\r\nBcc: all@example.com', language: 'zh', topics: ['CASE_OPENED'] });
        expect(bad.status).to.equal(400);
        expect(bad.body).to.deep.include({ field: 'address' });
        const mine = await as<{ address: string; language: string }>('exporter', 'GET', '/v1/notifications/email');
        expect(mine.body).to.include({ address: addresses.exporter, language: 'zh' });
        expect((await as('forex', 'GET', '/v1/notifications/email')).status, 'none yet').to.equal(204);
    });

    it('gathers events close together into one digest per reader, in its language, with links to the console; nothing before the window', async () => {
        const handoff = (messageId: string, recipient: string): Promise<Answer> => as('customs', 'POST', '/v1/handoffs', {
            messageId, recipient, subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(messageId), size: 1,
        });
        expect((await handoff(`${caseId}-F`, 'ForexMSP')).status).to.equal(201);
        expect((await as('forex', 'POST', `/v1/handoffs/CustomsMSP/${caseId}-F/receipt`, { payloadHash: sha256(`${caseId}-F`) })).status).to.equal(200);
        expect((await as('forex', 'POST', `/v1/handoffs/CustomsMSP/${caseId}-F/acknowledgement`, { decision: 'REJECTED', reasonCode: 'DATA_INCOMPLETE', text: '缺少发票' })).status).to.equal(200);
        const opened = await as('exporter', 'POST', '/v1/cases', { caseId, subject: { kind: 'HANDOFF', sender: 'CustomsMSP', messageId: `${caseId}-F` }, reason: 'DATA_ERROR' });
        expect(opened.status, opened.text).to.equal(201);
        expect((await as('customs', 'POST', `/v1/cases/${caseId}/thread`, { text: 'We will send the invoice again.' })).status).to.equal(201);

        // The exporter: the rejection and the message (its own case is not news to it); customs: the case.
        await until(async () => await waiting(addresses.exporter) === 2 && await waiting(addresses.customs) === 1, 'the notifications to wait for their digest');
        expect(await waiting(addresses.tax), 'tax is not a party to the case').to.equal(0);
        expect(inbox.mails, 'nothing is sent before the digest window ends').to.deep.equal([]);

        now += 61_000;
        await until(() => inbox.to(addresses.exporter).length === 1 && inbox.to(addresses.customs).length === 1, 'the digests');
        const [digest] = inbox.to(addresses.exporter);
        expect(digest?.subject).to.equal('【存根】2 条新通知');
        expect(digest?.text).to.include(`外汇管理拒收了海关发送的报文 ${caseId}-F（DATA_INCOMPLETE）`);
        expect(digest?.text).to.include(`海关发来新消息（第 1 条）：案件 ${caseId}`);
        expect(digest?.text).to.include(`${PUBLIC_URL}/console/#/cases/${caseId}`);
        expect(digest?.text).to.include(`${PUBLIC_URL}/console/#/trace?declaration=${declaration}`);
        expect(digest?.html).to.include(`<a href="${PUBLIC_URL}/console/#/cases/${caseId}">`);
        const [single] = inbox.to(addresses.customs);
        expect(single?.subject).to.equal(`[Counterfoil] Case ${caseId} opened by ${EXPORTER_USCC}: data error`);
        expect(single?.from?.text).to.include('counterfoil@localhost');
        const log = await as<{ status: string; notifications: number; subject: string }[]>('exporter', 'GET', '/v1/notifications/email/deliveries');
        expect(log.body.map((entry) => [entry.status, entry.notifications])).to.deep.equal([['SENT', 2]]);
        now += 61_000;
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        expect(inbox.mails.length, 'nothing is sent twice').to.equal(2);
    });

    it('tells a party of a handoff whose receipt deadline passed, by the notifier\'s clock', async () => {
        const messageId = `${caseId}-T`;
        expect((await as('customs', 'POST', '/v1/handoffs', {
            messageId, recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256(messageId), size: 1,
        })).status).to.equal(201);
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        now += 25 * 3600 * 1000;
        await until(async () => await waiting(addresses.customs) === 1, 'the overdue notification');
        now += 61_000;
        await until(() => inbox.to(addresses.customs).length === 2, 'the overdue mail');
        const mail = inbox.to(addresses.customs)[1];
        expect(mail?.subject).to.match(new RegExp(`^\\[Counterfoil\\] ${messageId} \\(Customs → Tax\\) was not received by its deadline, `));
        expect(mail?.text).to.include(`${PUBLIC_URL}/console/#/unconfirmed`);
    });

    it('retries a mail the server refuses, then marks it DEAD, keeping the server\'s code and nothing more', async () => {
        inbox.refusing = true;
        const before = inbox.mails.length;
        expect((await as('tax', 'POST', '/v1/cases', { caseId: `${caseId}-2`, subject: { kind: 'HANDOFF', sender: 'CustomsMSP', messageId: `${caseId}-T` }, reason: 'OTHER' })).status).to.equal(201);
        // Customs (a party) is told; tax opened it.
        await until(async () => await waiting(addresses.customs) === 1, 'the notification');
        now += 61_000;
        const attempts = async (): Promise<{ status: string; attempts: number; lastError: string | null }> =>
            (await as<{ subject: string; status: string; attempts: number; lastError: string | null }[]>('customs', 'GET', '/v1/notifications/email/deliveries')).body
                .find((delivery) => delivery.subject.includes(`${caseId}-2`)) as { status: string; attempts: number; lastError: string | null };
        await until(async () => (await attempts()).attempts === 1, 'the first attempt');
        expect(await attempts()).to.deep.include({ status: 'PENDING', lastError: 'the mail server refused or could not be reached (451)' });
        now += 60_000;
        await until(async () => (await attempts()).attempts === 2, 'the second attempt, after the first backoff');
        now += 120_000;
        await until(async () => (await attempts()).status === 'DEAD', 'the last attempt');
        expect((await attempts()).attempts).to.equal(3);
        inbox.refusing = false;
        now += 3_600_000;
        await harness.gateway.services.indexer.caughtUp((await harness.ledger.info()).height - 1n);
        expect(inbox.mails.length, 'a DEAD mail is not sent again').to.equal(before);
    });

    it('ends a subscription, and has exercised every notification route', async () => {
        expect((await as('tax', 'DELETE', '/v1/notifications/email')).status).to.equal(204);
        expect((await as('tax', 'DELETE', '/v1/notifications/email')).status).to.equal(404);
        const seen = new Set([...exercised].map((entry) => entry.split(' ').slice(0, 3).join(' ')));
        const expected = ['PUT /v1/notifications/email 200', 'PUT /v1/notifications/email 400', 'GET /v1/notifications/email 200', 'GET /v1/notifications/email 204',
            'DELETE /v1/notifications/email 204', 'DELETE /v1/notifications/email 404', 'GET /v1/notifications/email/deliveries 200'];
        expect(expected.filter((entry) => !seen.has(entry))).to.deep.equal([]);
    });
});
