import { type Api, errorBox, h, since, table, type Session, until, type Words } from './core.js';

/** What a page gets: the API, the signed-in session, words, and the route's parts after its name. */
export interface PageContext {
    readonly api: Api;
    readonly session: Session;
    readonly words: Words;
    readonly parts: readonly string[];
    /** Goes to another page (`#/cases/ID`). */
    readonly go: (hash: string) => void;
    /** Aborts when the page is left (for streams). */
    readonly signal: AbortSignal;
}

export type Page = (context: PageContext) => Promise<HTMLElement>;

interface Pair { sender: string; recipient: string; handoffs: number; byStatus: Record<string, number>; confirmed: number; confirmationRate: number; overdue: number; receiptSecondsMedian: number | null; receiptSecondsMax: number | null }
interface Overview { pairs: Pair[]; totals: { handoffs: number; confirmed: number; overdue: number }; perMinute: { minute: string; sent: number }[]; overdueByHour: { hour: string; overdue: number }[]; openCases: number }
interface Consensus { engine: 'embedded' | 'cometbft'; height: number; chainId?: string; node?: string; validators?: { name: string; height?: number; inStep: boolean }[] }
interface Health { name: string; organisation: string; lastSuccessAt: string | null; lagSeconds: number | null; errors: number; consecutiveFailures: number; quarantined: number; parked: number; lastError: string | null }
interface Discrepancy { class: string; sender: string; messageId: string; recipient: string; subject: string | null; status: string; sentAt: string; deadline: string; overdue: boolean; retransmissions: number; reason?: string }


function stat(label: string, value: string | number, tone = ''): HTMLElement {
    return h('div', { class: `stat ${tone}` }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));
}

/** What the console uses of Apache ECharts, loaded by the page as a script of its own (`/console/vendor/echarts.min.js`). */
declare const echarts: {
    init(element: HTMLElement, theme: null, options: { renderer: 'svg'; locale: 'EN' | 'ZH'; width: number; height: number }): { setOption(option: unknown): void; dispose(): void };
};

const CHART_FONT = '"Counterfoil CJK", system-ui, sans-serif';

/**
 * A chart drawn by ECharts (SVG, so that its text is the page's and reads in the console's
 * font), with its title as the figure's accessible name; disposed when the page is left.
 */
function chart(label: string, option: Record<string, unknown>, words: Words, signal: AbortSignal, height = 220): HTMLElement {
    const box = h('div', { class: 'plot', role: 'img', 'aria-label': label });
    const figure = h('figure', { class: 'chart' }, box, h('figcaption', {}, label));
    // ECharts measures the element it draws in: it is drawn once the figure is in the page.
    queueMicrotask(() => {
        const drawn = echarts.init(box, null, { renderer: 'svg', locale: words.language === 'zh' ? 'ZH' : 'EN', width: 760, height });
        drawn.setOption({ animation: false, textStyle: { fontFamily: CHART_FONT }, grid: { left: 48, right: 56, top: 32, bottom: 44, containLabel: true }, tooltip: { trigger: 'axis' }, ...option });
        signal.addEventListener('abort', () => drawn.dispose(), { once: true });
    });
    return figure;
}

/** Handoffs sent per minute over the last hour: time across, handoffs a minute up. */
function perMinuteChart(points: Overview['perMinute'], words: Words, signal: AbortSignal): HTMLElement {
    const now = Date.now();
    return chart(words.t('perMinute'), {
        xAxis: { type: 'time', name: words.t('time'), nameLocation: 'middle', nameGap: 28, min: now - 60 * 60_000, max: now, axisLabel: { hideOverlap: true } },
        yAxis: { type: 'value', name: words.t('handoffsPerMinute'), minInterval: 1 },
        series: [{ type: 'bar', name: words.t('handoffsPerMinute'), barMaxWidth: 10, data: points.map((point) => [point.minute, point.sent]) }],
    }, words, signal);
}

/** The share of each agency pair's handoffs the recipient confirmed, in per cent. */
function confirmationChart(pairs: readonly Pair[], words: Words, signal: AbortSignal): HTMLElement {
    const names = pairs.map((pair) => `${words.party(pair.sender)} → ${words.party(pair.recipient)}`);
    return chart(words.t('confirmationByPair'), {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (value: number) => `${value} %` },
        xAxis: { type: 'value', name: words.t('confirmedShare'), nameLocation: 'middle', nameGap: 28, min: 0, max: 100, axisLabel: { formatter: '{value} %' } },
        yAxis: { type: 'category', data: names, inverse: true },
        series: [{ type: 'bar', name: words.t('confirmationRate'), data: pairs.map((pair) => Math.round(pair.confirmationRate * 1000) / 10), label: { show: true, position: 'right', formatter: '{c} %' } }],
    }, words, signal, Math.max(140, 36 * pairs.length + 70));
}

/** Handoffs still waiting past their deadline, by the hour the deadline passed. */
function overdueChart(points: Overview['overdueByHour'], words: Words, signal: AbortSignal): HTMLElement {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    return chart(words.t('overdueByHour'), {
        xAxis: { type: 'time', name: words.t('deadlineHour'), nameLocation: 'middle', nameGap: 28, min: hour - 24 * 3_600_000, max: hour, axisLabel: { hideOverlap: true } },
        yAxis: { type: 'value', name: words.t('handoffsOverdue'), minInterval: 1 },
        series: [{ type: 'bar', name: words.t('handoffsOverdue'), barMaxWidth: 16, itemStyle: { color: '#b3261e' }, data: points.map((point) => [point.hour, point.overdue]) }],
    }, words, signal);
}

export const overviewPage: Page = async ({ api, words, signal }) => {
    const [overview, adapters, consensus] = await Promise.all([api.get<Overview>('/v1/overview'), api.get<Health[]>('/v1/adapters'), api.get<Consensus>('/v1/ledger')]);
    const rate = overview.totals.handoffs === 0 ? '—' : `${Math.round((overview.totals.confirmed / overview.totals.handoffs) * 1000) / 10} %`;
    const agencies = [...new Set(overview.pairs.flatMap((pair) => [pair.sender, pair.recipient]))].sort();
    const pairOf = (sender: string, recipient: string): Pair | undefined => overview.pairs.find((pair) => pair.sender === sender && pair.recipient === recipient);
    const matrix = h('table', { class: 'matrix' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, `${words.t('sender')} \\ ${words.t('recipient')}`), agencies.map((recipient) => h('th', { scope: 'col' }, words.party(recipient))))),
        h('tbody', {}, agencies.map((sender) => h('tr', {}, h('th', { scope: 'row' }, words.party(sender)), agencies.map((recipient) => {
            const pair = pairOf(sender, recipient);
            return h('td', { class: pair && pair.overdue > 0 ? 'warn' : '' }, pair ? `${pair.receiptSecondsMedian ?? '—'} / ${pair.receiptSecondsMax ?? '—'}` : '');
        })))));
    return h('section', {},
        h('h1', {}, words.t('overview')),
        h('div', { class: 'stats' },
            stat(words.t('handoffs'), overview.totals.handoffs), stat(words.t('confirmationRate'), rate),
            stat(words.t('overdue'), overview.totals.overdue, overview.totals.overdue > 0 ? 'warn' : ''), stat(words.t('openCases'), overview.openCases)),
        h('h2', {}, words.t('handoffs')),
        table([words.t('sender'), words.t('recipient'), words.t('handoffs'), words.t('status'), words.t('confirmationRate'), words.t('overdue')],
            overview.pairs.map((pair) => [words.party(pair.sender), words.party(pair.recipient), pair.handoffs,
                Object.entries(pair.byStatus).map(([status, count]) => `${words.code('status', status)} ${count}`).join(' · '), `${Math.round(pair.confirmationRate * 1000) / 10} %`, pair.overdue]),
            words.t('nothing')),
        h('h2', {}, words.t('lag')), matrix,
        h('h2', {}, words.t('charts')),
        perMinuteChart(overview.perMinute, words, signal), confirmationChart(overview.pairs, words, signal), overdueChart(overview.overdueByHour, words, signal),
        h('h2', {}, words.t('ledger')),
        consensus.engine === 'embedded'
            ? h('p', {}, `${words.t('embeddedLedger')} · ${words.t('height')} ${consensus.height}`)
            : table([words.t('validator'), words.t('height'), words.t('inStep')],
                (consensus.validators ?? []).map((validator) => [validator.name === consensus.node ? `${validator.name} ★` : validator.name, validator.height ?? '—',
                    validator.inStep ? words.t('yes') : h('span', { class: 'warn' }, words.t('no'))]),
                words.t('nothing')),
        h('h2', {}, words.t('adapters')),
        table([words.t('adapter'), words.t('lastSuccess'), words.t('errors'), words.t('quarantined'), words.t('parked')],
            adapters.map((adapter) => [adapter.name, adapter.lastSuccessAt ? since(adapter.lastSuccessAt, words.language) : '—',
                adapter.consecutiveFailures > 0 ? h('span', { class: 'warn', title: adapter.lastError ?? '' }, `${adapter.errors} (${adapter.consecutiveFailures})`) : adapter.errors,
                adapter.quarantined, adapter.parked]),
            words.t('nothing')));
};

const CLASSES = ['NOT_DELIVERED', 'NOT_ACKNOWLEDGED', 'CONTENT_MISMATCH', 'REJECTED', 'NEVER_RECORDED', 'RECIPIENT_ONLY'];
const AGENCIES = ['CommerceMSP', 'CustomsMSP', 'TaxMSP', 'ForexMSP', 'InspectionMSP'];

export const unconfirmedPage: Page = async ({ api, session, words, go }) => {
    const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
    // An agency sees the transfers it is party to: it names itself unless it asked for another filter.
    if (!session.uscc && session.role !== 'auditor' && session.role !== 'reconciler' && !query.get('sender') && !query.get('recipient')) {
        query.set('recipient', session.org);
    }
    const select = (name: string, options: readonly string[], label: (option: string) => string): HTMLElement => h('label', {}, words.t(name),
        h('select', { name }, h('option', { value: '' }, words.t('any')), options.map((option) => h('option', { value: option, selected: query.get(name) === option }, label(option)))));
    const party = (option: string): string => words.party(option);
    const form = h('form', {
        class: 'filters',
        onsubmit: (event: Event) => {
            event.preventDefault();
            const data = new FormData(event.target as HTMLFormElement);
            const next = new URLSearchParams([...data.entries()].filter(([, value]) => value !== '').map(([key, value]) => [key, String(value)]));
            go(`#/unconfirmed?${next.toString()}`);
        },
    },
    select('sender', AGENCIES, party), select('recipient', AGENCIES, party), select('class', CLASSES, (option) => words.code('class', option)),
    h('label', {}, words.t('subject'), h('input', { name: 'subject', value: query.get('subject') ?? '', size: 20, pattern: '[0-9A-Z]{18}' })),
    h('label', {}, words.t('olderThan'), h('select', { name: 'minAgeSeconds' }, h('option', { value: '' }, words.t('any')),
        [60, 600, 3600, 86_400].map((seconds) => h('option', { value: seconds, selected: query.get('minAgeSeconds') === String(seconds) }, since(new Date(Date.now() - seconds * 1000).toISOString(), words.language))))),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'overdue', value: 'true', checked: query.get('overdue') === 'true' }), words.t('overdueOnly')),
    h('button', { type: 'submit' }, words.t('filter')));
    const section = h('section', {}, h('h1', {}, words.t('unconfirmed')), form);
    try {
        const cursor = query.get('cursor');
        query.delete('cursor');
        const filters = query.toString();
        const page = await api.get<{ items: Discrepancy[]; nextCursor: string | null }>(`/v1/unconfirmed?${filters}${filters ? '&' : ''}limit=${PAGE_ROWS}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        const actions = (item: Discrepancy): HTMLElement => {
            const box = h('span', { class: 'actions' });
            if (item.status !== 'NOT_ON_LEDGER' && !session.uscc) {
                box.append(h('button', {
                    onclick: async () => {
                        const caseId = `CASE-${item.messageId}`.slice(0, 120);
                        try {
                            await api.post('/v1/cases', { caseId, subject: { kind: 'HANDOFF', sender: item.sender, messageId: item.messageId }, reason: item.class === 'CONTENT_MISMATCH' ? 'CONTENT_MISMATCH' : item.class === 'REJECTED' ? 'DATA_ERROR' : 'NOT_RECEIVED' });
                            go(`#/cases/${encodeURIComponent(caseId)}`);
                        } catch (error) {
                            box.append(errorBox(error));
                        }
                    },
                }, words.t('openCase')));
            }
            if (item.sender === session.org && (item.status === 'SENT' || item.status === 'MISMATCH')) {
                box.append(h('button', {
                    onclick: async () => {
                        try {
                            await api.post(`/v1/handoffs/${item.sender}/${encodeURIComponent(item.messageId)}/retransmissions`, { attempt: item.retransmissions + 1 });
                            go(location.hash);
                        } catch (error) {
                            box.append(errorBox(error));
                        }
                    },
                }, words.t('retransmit')));
            }
            return box;
        };
        section.append(table([words.t('class'), words.t('sender'), words.t('recipient'), words.t('message'), words.t('subject'), words.t('age'), words.t('deadline'), ''],
            page.items.map((item) => [h('span', { class: `badge ${item.overdue ? 'warn' : ''}`, title: item.reason ?? '' }, words.code('class', item.class)), words.party(item.sender), words.party(item.recipient),
                item.messageId, item.subject ?? '—', since(item.sentAt, words.language), item.overdue ? h('strong', { class: 'warn' }, words.t('overdue')) : until(item.deadline, words.language), actions(item)]),
            words.t('nothing')), pager(words, `#/unconfirmed${filters ? `?${filters}` : ''}`, cursor, page.nextCursor));
    } catch (error) {
        section.append(errorBox(error));
    }
    return section;
};

interface CaseRecord {
    caseId: string; status: string; reason: string; parties: string[]; openedBy: string; openedAt: string; subject: Record<string, string>; outcome?: { code: string; by: string; at: string };
    findings?: { code: string; expected: string; found: string }[];
}

export const casesPage: Page = async ({ api, session, words, parts, go }) => {
    const id = parts[0];
    if (!id) {
        const cursor = new URLSearchParams(location.hash.split('?')[1] ?? '').get('cursor');
        const [page, unread] = await Promise.all([
            api.get<{ items: CaseRecord[]; nextCursor: string | null }>(`/v1/cases?limit=${PAGE_ROWS}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
            api.get<UnreadThread[]>('/v1/threads/unread'),
        ]);
        const unreadOf = (caseId: string): number => {
            const entry = unread.find((candidate) => candidate.thread === `case/${caseId}`);
            return entry ? entry.messageCount - entry.readThrough : 0;
        };
        return h('section', {}, h('h1', {}, words.t('cases')),
            table(['ID', words.t('status'), words.t('reason'), words.t('parties'), words.t('age'), words.t('unread')],
                page.items.map((record) => [h('a', { href: `#/cases/${encodeURIComponent(record.caseId)}` }, record.caseId), words.code('status', record.status), words.code('reason', record.reason), record.parties.map((party) => words.party(party)).join(', '), since(record.openedAt, words.language),
                    unreadOf(record.caseId) > 0 ? h('span', { class: 'badge' }, unreadOf(record.caseId)) : '']),
                words.t('nothing')),
            pager(words, '#/cases', cursor, page.nextCursor));
    }
    const record = await api.get<CaseRecord>(`/v1/cases/${encodeURIComponent(id)}`);
    const section = h('section', {}, h('h1', {}, `${words.t('cases')} · ${record.caseId}`),
        h('dl', {},
            h('dt', {}, words.t('status')), h('dd', {}, words.code('status', record.status)),
            h('dt', {}, words.t('reason')), h('dd', {}, words.code('reason', record.reason)),
            h('dt', {}, words.t('caseSubject')), h('dd', {}, record.subject.kind === 'HANDOFF'
                ? `${words.t('handoff')} ${record.subject.messageId ?? ''} (${words.party(record.subject.sender ?? '')})`
                : record.subject.kind === 'FOREIGN_CERTIFICATE'
                    ? h('a', { href: '#/foreign' }, `${words.t('foreign')} ${record.subject.number ?? ''} (${record.subject.authorityId ?? ''})`)
                    : `${words.code('type', record.subject.type ?? '')} ${record.subject.number ?? ''}`),
            ...(record.findings ? [h('dt', {}, words.t('findings')), h('dd', {}, findingsList(record.findings, words))] : []),
            h('dt', {}, words.t('parties')), h('dd', {}, record.parties.map((party) => words.party(party)).join(', ')),
            h('dt', {}, words.t('outcome')), h('dd', {}, record.outcome ? `${record.outcome.code} (${words.party(record.outcome.by)}, ${words.time(record.outcome.at)})` : '—')),
        h('h2', {}, words.t('messages')),
        await threadSection({ api, session, words, go }, `/v1/cases/${encodeURIComponent(id)}/thread`, record.status === 'OPEN'));
    if (record.status === 'OPEN') {
        const form = h('form', {
            onsubmit: async (event: Event) => {
                event.preventDefault();
                const code = String(new FormData(event.target as HTMLFormElement).get('code') ?? '');
                try {
                    await api.post(`/v1/cases/${encodeURIComponent(id)}/resolution`, { resolutionCode: code });
                    go(location.hash);
                } catch (error) {
                    form.append(errorBox(error));
                }
            },
        }, h('label', {}, words.t('outcome'), h('input', { name: 'code', required: true, pattern: '[A-Z][A-Z0-9_]{1,39}', value: 'RESENT_AND_CONFIRMED' })), h('button', { type: 'submit' }, words.t('resolve')));
        section.append(form);
    }
    return section;
};

interface UnreadThread { thread: string; messageCount: number; readThrough: number }
interface ThreadAttachment { sha256: string; size: number; mediaType: string; name: string }
interface ThreadMessage { sequence: number; author: string; at: string; messageHash: string; text?: string; attachments: ThreadAttachment[]; verified: boolean; unread: boolean }
interface Thread { parties: string[]; messageCount: number; complete: boolean; messages: ThreadMessage[] }

/**
 * A thread (a case's, a document's): each message with its text and attachments, whether it
 * matches the ledger's digests, what is new to the reader; a form to write with files attached.
 * Shown, the thread is marked read.
 */
async function threadSection(context: Pick<PageContext, 'api' | 'session' | 'words' | 'go'>, path: string, writable: boolean): Promise<HTMLElement> {
    const { api, session, words, go } = context;
    const thread = await api.get<Thread>(path);
    const problem = h('div', { 'aria-live': 'polite' });
    const kb = (size: number): string => `${Math.max(1, Math.round(size / 1024))} KB`;
    const list = h('ol', { class: 'thread' }, thread.messages.map((message) => h('li', { class: message.unread ? 'unread' : '', 'data-sequence': message.sequence },
        h('div', { class: 'meta' }, h('strong', {}, words.party(message.author)), ` · ${words.time(message.at)} · #${message.sequence}`,
            message.unread ? h('span', { class: 'badge' }, words.t('new')) : null,
            message.verified ? null : h('span', { class: 'error' }, ` ${words.t('notVerified')}`)),
        h('p', { class: 'text' }, message.text ?? '—'),
        message.attachments.length > 0 ? h('ul', { class: 'attachments' }, message.attachments.map((attachment) => h('li', {},
            h('button', {
                type: 'button', class: 'link',
                onclick: () => void api.download(`${path}/${message.sequence}/attachments/${attachment.sha256}`, attachment.name).catch((error: unknown) => problem.replaceChildren(errorBox(error))),
            }, attachment.name), ` (${attachment.mediaType}, ${kb(attachment.size)})`))) : null)));
    const status = h('p', { class: thread.complete ? 'ok' : 'error' }, thread.complete
        ? `${words.t('threadComplete')} (${thread.messageCount})`
        : `${words.t('threadIncomplete')} (${thread.messages.length} / ${thread.messageCount})`);
    const section = h('div', {}, status, thread.messages.length === 0 ? h('p', { class: 'empty' }, words.t('nothing')) : list, problem);
    if (thread.messageCount > 0 && session.role !== 'auditor' && session.role !== 'reconciler') {
        await api.post(`${path}/read`, { through: thread.messageCount }).catch(() => undefined);
    }
    if (writable && session.role !== 'auditor' && session.role !== 'reconciler') {
        const form = h('form', {
            class: 'compose',
            onsubmit: async (event: Event) => {
                event.preventDefault();
                const data = new FormData(event.target as HTMLFormElement);
                try {
                    const attachments = [];
                    for (const file of data.getAll('files') as File[]) {
                        if (file.size > 0) {
                            const stored = await api.upload<{ sha256: string }>('/v1/attachments', file, 'application/octet-stream');
                            attachments.push({ sha256: stored.sha256, name: file.name });
                        }
                    }
                    await api.post(path, { text: String(data.get('text') ?? ''), ...(attachments.length > 0 ? { attachments } : {}) });
                    go(location.hash);
                } catch (error) {
                    problem.replaceChildren(errorBox(error));
                }
            },
        },
        h('label', {}, words.t('writeMessage'), h('textarea', { name: 'text', rows: 3, cols: 70, required: true, maxlength: 10000 })),
        h('label', {}, words.t('attach'), h('input', { name: 'files', type: 'file', multiple: true, accept: '.pdf,.png,.jpg,.jpeg,.tif,.tiff,.gif,.webp' })),
        h('button', { type: 'submit' }, words.t('send')));
        section.append(form);
    }
    return section;
}


/** A case's or a verdict's findings: what was expected, what was found. */
export function findingsList(findings: readonly { code: string; expected: string; found: string }[], words: Words): HTMLElement {
    return h('dl', { class: 'findings' }, findings.flatMap((finding) => [
        h('dt', {}, words.code('finding', finding.code)),
        h('dd', {}, h('div', {}, `${words.t('expected')}: ${finding.expected}`), h('div', {}, `${words.t('found')}: ${finding.found}`)),
    ]));
}

interface TraceStep { at: string; step: string; status: string; sender: string; recipient: string; messageId: string; transactionId: string; blockNumber: number; receiptDeadline: string; overdue: boolean }

/** Links to the first page of a list and to the page after this one; `base` is the list's route with its filters. */
export function pager(words: Words, base: string, cursor: string | null | undefined, nextCursor: string | null): HTMLElement {
    const joined = `${base}${base.includes('?') ? '&' : '?'}cursor=`;
    return h('nav', { class: 'pager', 'aria-label': words.t('morePages') },
        cursor ? h('a', { href: base }, words.t('firstPage')) : null,
        nextCursor ? h('a', { href: `${joined}${encodeURIComponent(nextCursor)}`, rel: 'next' }, words.t('nextPage')) : null);
}

interface DeclarationSummary { number: string; status: string; issuedAt: string; handoffs: { agency: string; messageId: string; status: string; sentAt: string; overdue: boolean }[] }

/** Rows a page of a long list holds. */
const PAGE_ROWS = 20;

/**
 * An enterprise's declarations, newest first, a page at a time: where its data stands at each
 * agency, each declaration opening its own trace.
 */
async function declarationList(api: Api, words: Words, enterprise: string, cursor: string | undefined): Promise<HTMLElement> {
    const page = await api.get<{ items: DeclarationSummary[]; nextCursor: string | null }>(
        `/v1/enterprises/${enterprise}/declarations?limit=${PAGE_ROWS}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const base = `#/trace?uscc=${enterprise}`;
    return h('div', {},
        h('h2', {}, words.t('declarations')),
        table([words.t('declaration'), words.t('status'), words.t('issuedAt'), words.t('handoffs')], page.items.map((item) => [
            h('a', { href: `#/trace?declaration=${item.number}` }, item.number), words.code('status', item.status), words.time(item.issuedAt),
            h('span', {}, item.handoffs.map((handoff) => h('span', { class: `badge ${handoff.overdue ? 'warn' : ''}`, title: handoff.messageId },
                `${words.party(handoff.agency)} ${words.code('status', handoff.status)}${handoff.overdue ? ` · ${words.t('overdue')}` : ''}`))),
        ]), words.t('nothing')),
        pager(words, base, cursor, page.nextCursor));
}

/**
 * A declaration's handoffs drawn across agencies: a lane per receiving agency, each step of each
 * handoff at its time, the steps of one handoff joined; a deadline still waited on shows as a mark.
 */
function timelineChart(agencies: readonly { agency: string; timeline: TraceStep[] }[], words: Words, signal: AbortSignal): HTMLElement {
    const lanes = agencies.map((entry) => words.party(entry.agency));
    const steps = agencies.flatMap((entry, lane) => entry.timeline.map((step) => ({ lane, step })));
    const kinds = [...new Set(steps.map(({ step }) => step.step))];
    const handoffs = [...new Set(steps.map(({ step }) => `${step.sender}/${step.messageId}`))];
    return chart(words.t('timelineAcross'), {
        tooltip: { trigger: 'item', formatter: (point: { data: { value: [string, number]; name: string } }) => `${point.data.name}<br>${words.time(point.data.value[0])}` },
        legend: { top: 0, data: kinds.map((kind) => words.code('step', kind)) },
        xAxis: { type: 'time', name: words.t('time'), nameLocation: 'middle', nameGap: 28, axisLabel: { hideOverlap: true } },
        yAxis: { type: 'category', data: lanes, inverse: true },
        series: [
            ...handoffs.map((handoff) => ({
                type: 'line', silent: true, symbol: 'none', lineStyle: { color: '#9aa5b1', width: 1 },
                data: steps.filter(({ step }) => `${step.sender}/${step.messageId}` === handoff).map(({ lane, step }) => [step.at, lane]),
            })),
            ...kinds.map((kind) => ({
                type: 'scatter', name: words.code('step', kind), symbolSize: 12,
                data: steps.filter(({ step }) => step.step === kind).map(({ lane, step }) => ({ value: [step.at, lane], name: `${words.code('step', kind)} · ${step.messageId}` })),
            })),
            {
                type: 'scatter', name: words.t('deadline'), symbol: 'triangle', symbolSize: 12, itemStyle: { color: '#b3261e' },
                data: agencies.flatMap((entry, lane) => entry.timeline.filter((step) => step.status === 'SENT' && step.step === 'SENT')
                    .map((step) => ({ value: [step.receiptDeadline, lane], name: `${words.t('deadline')} · ${step.messageId}${step.overdue ? ` · ${words.t('overdue')}` : ''}` }))),
            },
        ],
    }, words, signal, Math.max(160, 60 * lanes.length + 90));
}

export const tracePage: Page = async ({ api, session, words, go, signal }) => {
    const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
    const form = h('form', {
        class: 'filters',
        onsubmit: (event: Event) => {
            event.preventDefault();
            const data = new FormData(event.target as HTMLFormElement);
            const declaration = String(data.get('declaration') ?? '');
            const uscc = String(data.get('uscc') ?? '');
            go(declaration ? `#/trace?declaration=${declaration}` : uscc ? `#/trace?uscc=${uscc}` : '#/trace');
        },
    },
    h('label', {}, words.t('declaration'), h('input', { name: 'declaration', value: query.get('declaration') ?? '', pattern: '[0-9]{18}', size: 20 })),
    session.role !== 'auditor' && session.role !== 'reconciler' ? null : h('label', {}, words.t('uscc'), h('input', { name: 'uscc', value: query.get('uscc') ?? '', pattern: '[0-9A-Z]{18}', size: 20 })),
    h('button', { type: 'submit' }, words.t('search')));
    const section = h('section', {}, h('h1', {}, words.t('trace')), form);
    const declaration = query.get('declaration');
    const enterprise = session.uscc ?? query.get('uscc');
    if (!declaration && enterprise) {
        section.append(await declarationList(api, words, enterprise, query.get('cursor') ?? undefined));
        return section;
    }
    const path = declaration ? `/v1/trace?declaration=${declaration}` : undefined;
    if (!path) {
        return section;
    }
    try {
        const trace = await api.get<{ documents: { type: string; number: string; status: string; issuer: string }[]; verifications: { declarationNumber: string; permit: { number: string }; verdict: string }[]; agencies: { agency: string; timeline: TraceStep[] }[] }>(path);
        section.append(
            h('h2', {}, words.t('documents')),
            table([words.t('documentType'), words.t('number'), words.t('status'), words.t('issuer')],
                trace.documents.map((document) => [words.code('type', document.type), document.number, words.code('status', document.status), words.party(document.issuer)]), words.t('nothing')),
            h('h2', {}, words.t('timeline')),
            timelineChart(trace.agencies, words, signal),
            ...trace.agencies.map((entry) => h('div', { class: 'timeline' }, h('h3', {}, words.party(entry.agency)),
                h('ol', {}, entry.timeline.map((step) => h('li', { class: step.overdue && step.status === 'SENT' ? 'warn' : '' },
                    h('strong', {}, words.code('step', step.step)), ` ${words.time(step.at)} · ${step.messageId} · `,
                    step.status === 'SENT' ? `${words.t('deadline')} ${words.time(step.receiptDeadline)}${step.overdue ? ` · ${words.t('overdue')}` : ''}` : '',
                    h('button', { class: 'link', onclick: () => void api.download(`/v1/handoffs/${step.sender}/${encodeURIComponent(step.messageId)}/proof.pdf`, `proof-${step.messageId}.pdf`) }, words.t('proof'))))))));
        if (declaration) {
            section.append(h('h2', {}, words.t('declarationThread')),
                await threadSection({ api, session, words, go }, `/v1/documents/EXPORT_DECLARATION/${declaration}/thread`, true).catch((error: unknown) => errorBox(error)));
        }
    } catch (error) {
        section.append(errorBox(error));
    }
    return section;
};

interface Verification { verdict: string; reasons: { code: string; detail: string }[]; balance: { hsCode: string; unit: string; licensed: number; drawn: number; remaining: number }[]; usesRemaining: number }

export const verifyPage: Page = async ({ api, words }) => {
    const result = h('div', { class: 'result', 'aria-live': 'polite' });
    const line = (): HTMLElement => h('fieldset', { class: 'line' },
        h('label', {}, words.t('hsCode'), h('input', { name: 'hsCode', required: true, pattern: '[0-9]{10}', size: 12 })),
        h('label', {}, words.t('quantity'), h('input', { name: 'quantity', required: true, type: 'number', min: 1 })),
        h('label', {}, words.t('unit'), h('input', { name: 'unit', required: true, size: 5, value: 'TNE' })));
    const lines = h('div', {}, line());
    const form = h('form', {
        onsubmit: async (event: Event) => {
            event.preventDefault();
            const data = new FormData(event.target as HTMLFormElement);
            const hsCodes = data.getAll('hsCode');
            const quantities = data.getAll('quantity');
            const units = data.getAll('unit');
            result.replaceChildren();
            try {
                const verification = await api.post<Verification>('/v1/verifications', {
                    declarationNumber: data.get('declarationNumber'), permit: { type: 'LICENCE', number: data.get('permit') }, holder: data.get('holder'),
                    direction: 'EXPORT', port: data.get('port'), declaredAt: new Date().toISOString(),
                    goods: hsCodes.map((hsCode, index) => ({ hsCode, quantity: Number(quantities[index]), unit: units[index] })),
                });
                result.append(
                    h('p', { class: `verdict ${verification.verdict === 'VALID' ? 'ok' : 'warn'}` }, `${words.t('verdict')}: ${words.code('verdict', verification.verdict)}`),
                    h('ul', { class: 'reasons' }, verification.reasons.map((reason) => h('li', {}, `${reason.code}: ${reason.detail}`))),
                    table([words.t('hsCode'), words.t('licensed'), words.t('drawn'), words.t('remaining')],
                        verification.balance.map((entry) => [entry.hsCode, `${entry.licensed} ${entry.unit}`, entry.drawn, entry.remaining]), words.t('nothing')),
                    h('p', {}, `${words.t('usesRemaining')}: ${verification.usesRemaining}`));
            } catch (error) {
                result.append(errorBox(error));
            }
        },
    },
    h('label', {}, words.t('declaration'), h('input', { name: 'declarationNumber', required: true, pattern: '[0-9]{18}', size: 20 })),
    h('label', {}, words.t('permit'), h('input', { name: 'permit', required: true, size: 16 })),
    h('label', {}, words.t('holder'), h('input', { name: 'holder', required: true, size: 20 })),
    h('label', {}, words.t('port'), h('input', { name: 'port', required: true, pattern: '[0-9]{4}', size: 5, value: '2201' })),
    lines,
    h('button', { type: 'button', onclick: () => lines.append(line()) }, words.t('addLine')),
    h('button', { type: 'submit' }, words.t('verify')));
    return h('section', {}, h('h1', {}, words.t('verify')), form, result);
};

interface AuditReport { verdict: string; blocks: number; transactions: { total: number; valid: number; invalid: number }; signatures: { checked: number; failed: number }; lastBlockHash: string; chain: { problems: unknown[] }; worldState: { divergences: unknown[] }; queryTables: { divergences: unknown[] } }

export const auditPage: Page = async ({ api, words, signal }) => {
    const status = h('div', { class: 'result', 'aria-live': 'polite' });
    const meter = h('progress', { max: 100, value: 0 }) as HTMLProgressElement;
    const form = h('form', {
        onsubmit: async (event: Event) => {
            event.preventDefault();
            const toBlock = String(new FormData(event.target as HTMLFormElement).get('toBlock') ?? '');
            status.replaceChildren(meter);
            try {
                const started = await api.post<{ id: string }>('/v1/audit/replays', toBlock ? { toBlock: Number(toBlock) } : {});
                await api.stream(`/v1/audit/replays/${started.id}/progress`, (name, data) => {
                    if (name === 'progress') {
                        const progress = data as { blockNumber: number; height: number };
                        meter.value = Math.round(((progress.blockNumber + 1) / Math.max(progress.height, 1)) * 100);
                    }
                }, signal);
                // After the last block come the comparisons with the live state and the query
                // tables, which take minutes on a large ledger: wait for as long as the replay runs.
                let replay = await api.get<{ status: string; report?: AuditReport }>(`/v1/audit/replays/${started.id}`);
                while (replay.status === 'RUNNING' && !signal.aborted) {
                    await new Promise((resolve) => setTimeout(resolve, 500));
                    replay = await api.get(`/v1/audit/replays/${started.id}`);
                }
                const report = replay.report;
                meter.value = 100;
                status.append(report ? h('div', {},
                    h('p', { class: `verdict ${report.verdict === 'CLEAN' ? 'ok' : 'warn'}` }, `${words.t('report')}: ${words.code('verdict', report.verdict)}`),
                    h('dl', {},
                        h('dt', {}, words.t('blocks')), h('dd', {}, report.blocks),
                        h('dt', {}, words.t('handoffs')), h('dd', {}, `${report.transactions.total} (${words.t('validInvalid')}: ${report.transactions.valid} / ${report.transactions.invalid})`),
                        h('dt', {}, words.t('signatures')), h('dd', {}, `${words.t('checkedFailed')}: ${report.signatures.checked} / ${report.signatures.failed}`),
                        h('dt', {}, words.t('lastBlockHash')), h('dd', {}, h('code', {}, report.lastBlockHash))),
                    h('button', { type: 'button', onclick: () => void api.download(`/v1/audit/replays/${started.id}/report.pdf`, `audit-${started.id}.pdf`) }, words.t('downloadPdf')))
                    : h('p', { class: 'warn' }, `${words.t('failed')}: ${words.code('status', replay.status)}`));
            } catch (error) {
                status.append(errorBox(error));
            }
        },
    },
    h('label', {}, words.t('toBlock'), h('input', { name: 'toBlock', type: 'number', min: 0 })),
    h('button', { type: 'submit' }, words.t('replay')));
    return h('section', {}, h('h1', {}, words.t('audit')), form, status);
};

/** The day (YYYY-MM-DD) of a date in the reader's time zone. */
function localDay(date: Date): string {
    return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/**
 * Exports to CSV or Excel: a dataset over whole days in the reader's time zone, the last day
 * included, with headings in the console's language.
 */
export const exportPage: Page = async ({ api, words }) => {
    const result = h('div', { class: 'result', 'aria-live': 'polite' });
    const today = new Date();
    const monthAgo = new Date(today.getFullYear(), today.getMonth() - 1, today.getDate());
    const form = h('form', {
        onsubmit: async (event: Event) => {
            event.preventDefault();
            const data = new FormData(event.target as HTMLFormElement);
            const dataset = String(data.get('dataset'));
            const format = String(data.get('format'));
            const fromDay = String(data.get('from'));
            const toDay = String(data.get('to'));
            const [year, month, day] = toDay.split('-').map(Number) as [number, number, number];
            const from = new Date(`${fromDay}T00:00:00`).toISOString();
            const to = new Date(year, month - 1, day + 1).toISOString();
            result.replaceChildren();
            try {
                const name = `counterfoil-${dataset}-${fromDay}-${toDay}.${format}`;
                await api.download(`/v1/exports/${dataset}?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=${format}&lang=${words.language}`, name);
                result.append(h('p', { class: 'ok' }, `${words.t('downloaded')}: ${name}`));
            } catch (error) {
                result.append(errorBox(error));
            }
        },
    },
    h('label', {}, words.t('dataset'), h('select', { name: 'dataset' },
        ['handoffs', 'documents', 'verifications', 'cases'].map((name) => h('option', { value: name }, words.t(name))))),
    h('label', {}, words.t('fromDay'), h('input', { name: 'from', type: 'date', required: true, value: localDay(monthAgo) })),
    h('label', {}, words.t('toDay'), h('input', { name: 'to', type: 'date', required: true, value: localDay(today) })),
    h('label', {}, words.t('format'), h('select', { name: 'format' }, h('option', { value: 'csv' }, 'CSV'), h('option', { value: 'xlsx' }, 'Excel (.xlsx)'))),
    h('button', { type: 'submit' }, words.t('download')));
    return h('section', {}, h('h1', {}, words.t('export')), h('p', { class: 'note' }, words.t('exportNote')), form, result);
};

interface ImportView {
    id: string; fileName?: string; format: string; mode: 'check' | 'submit'; status: string; rows: number; documents: number; processed: number;
    results: Record<string, number>; error?: string; createdAt: string;
}

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const RUNNING = ['READING', 'CHECKING', 'SUBMITTING'];

/**
 * Imports of documents: upload a CSV or workbook to check or to issue, follow each import's
 * progress, download its per-row results, and issue the good rows of a finished check.
 */
export const importPage: Page = async ({ api, session, words, go, signal }) => {
    const result = h('div', { class: 'result', 'aria-live': 'polite' });
    const list = h('div', { class: 'imports' });
    const writer = session.role === 'operator' || session.role === 'admin';
    const language = words.language;
    const templateLink = (format: string): HTMLElement => h('button', {
        type: 'button', onclick: () => void api.download(`/v1/imports/template?format=${format}&lang=${language}`, `counterfoil-import-template-${language}.${format}`).catch((error: unknown) => result.replaceChildren(errorBox(error))),
    }, `${words.t('template')} (${format === 'csv' ? 'CSV' : 'Excel'})`);
    const form = h('form', {
        onsubmit: async (event: Event) => {
            event.preventDefault();
            const data = new FormData(event.target as HTMLFormElement);
            const file = data.get('file') as File | null;
            if (!file || file.size === 0) {
                return;
            }
            const excel = /\.xlsx$/i.test(file.name);
            const type = excel ? XLSX_TYPE : `text/csv; charset=${String(data.get('charset'))}`;
            result.replaceChildren();
            try {
                await api.upload(`/v1/imports?mode=${String(data.get('mode'))}&name=${encodeURIComponent(file.name)}`, file, type);
                go('#/import');
            } catch (error) {
                result.append(errorBox(error));
            }
        },
    },
    h('label', {}, words.t('importFile'), h('input', { name: 'file', type: 'file', accept: '.csv,.xlsx,text/csv', required: true })),
    h('label', {}, words.t('mode'), h('select', { name: 'mode' }, h('option', { value: 'check' }, words.t('modeCheck')), h('option', { value: 'submit' }, words.t('modeSubmit')))),
    h('label', {}, words.t('charset'), h('select', { name: 'charset' }, h('option', { value: 'utf-8' }, 'UTF-8'), h('option', { value: 'gb18030' }, 'GB 18030 (GBK)'))),
    h('button', { type: 'submit' }, words.t('upload')), ' ', templateLink('csv'), ' ', templateLink('xlsx'));

    let following = false;
    // While an import runs, its progress is shown afresh every second, until the page is left.
    const follow = async (): Promise<void> => {
        if (following) {
            return;
        }
        following = true;
        while (!signal.aborted && await show().catch(() => false)) {
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        following = false;
    };
    const show = async (): Promise<boolean> => {
        const page = await api.get<{ items: ImportView[] }>('/v1/imports?limit=20');
        const counts = (item: ImportView): string => ['CREATED', 'UNCHANGED', 'VALID', 'INVALID', 'CONFLICT']
            .filter((name) => (item.results[name] ?? 0) > 0).map((name) => `${words.t(name)} ${item.results[name] ?? 0}`).join(' · ');
        const download = (item: ImportView, format: string): HTMLElement => h('button', {
            type: 'button', onclick: () => void api.download(`/v1/imports/${item.id}/results?format=${format}&lang=${language}`, `counterfoil-import-${item.id}-results.${format}`).catch((error: unknown) => result.replaceChildren(errorBox(error))),
        }, format === 'csv' ? 'CSV' : 'Excel');
        list.replaceChildren(table(
            [words.t('started'), words.t('file'), words.t('mode'), words.t('status'), words.t('progress'), words.t('results'), words.t('resultsFile')],
            page.items.map((item) => [
                words.time(item.createdAt),
                item.fileName ?? item.format, words.t(item.mode), words.t(item.status),
                item.status === 'FAILED' || item.status === 'INTERRUPTED'
                    ? h('span', { class: 'error' }, item.error ?? '')
                    : h('span', {}, h('progress', { max: Math.max(item.documents, 1), value: item.processed }), ` ${item.processed} / ${item.documents} ${words.t('ofDocuments')} · ${item.rows} ${words.t('rows')}`),
                counts(item),
                h('span', {}, download(item, 'csv'), ' ', download(item, 'xlsx'),
                    writer && item.mode === 'check' && item.status === 'DONE' && (item.results.VALID ?? 0) > 0
                        ? h('button', {
                            type: 'button', 'data-import': item.id,
                            onclick: async () => {
                                try {
                                    await api.post(`/v1/imports/${item.id}/submission`, undefined);
                                    await follow();
                                } catch (error) {
                                    result.replaceChildren(errorBox(error));
                                }
                            },
                        }, words.t('submitGood'))
                        : null),
            ]), words.t('nothing')));
        return page.items.some((item) => RUNNING.includes(item.status));
    };
    await show();
    void follow();
    return h('section', {}, h('h1', {}, words.t('import')), h('p', { class: 'note' }, words.t('importNote')), writer ? form : null, result, list);
};

interface EmailSubscription { address: string; language: string; topics: string[] }
interface EmailDelivery { id: number; subject: string; notifications: number; status: string; attempts: number; lastError: string | null; createdAt: string; sentAt: string | null }

const TOPICS = ['CASE_OPENED', 'CASE_RESOLVED', 'MESSAGE_RECEIVED', 'HANDOFF_REJECTED', 'HANDOFF_OVERDUE', 'PERMIT_EXHAUSTED', 'DOCUMENT_REVOKED'];

/** E-mail notifications: the reader's address, language and topics, and the mails sent to it. */
export const notificationsPage: Page = async ({ api, words, go }) => {
    const answer = await api.get<EmailSubscription | Record<string, never>>('/v1/notifications/email');
    const current = 'address' in answer ? answer as EmailSubscription : undefined;
    const deliveries = current ? await api.get<EmailDelivery[]>('/v1/notifications/email/deliveries') : [];
    const result = h('div', { class: 'result', 'aria-live': 'polite' });
    const form = h('form', {
        onsubmit: async (event: Event) => {
            event.preventDefault();
            const data = new FormData(event.target as HTMLFormElement);
            try {
                await api.put('/v1/notifications/email', { address: String(data.get('address')), language: String(data.get('language')), topics: data.getAll('topics').map(String) });
                go(location.hash);
            } catch (error) {
                result.replaceChildren(errorBox(error));
            }
        },
    },
    h('label', {}, words.t('emailAddress'), h('input', { name: 'address', type: 'email', required: true, size: 40, value: current?.address ?? '' })),
    h('label', {}, words.t('mailLanguage'), h('select', { name: 'language' },
        h('option', { value: 'zh', selected: (current?.language ?? words.language) === 'zh' }, '中文'), h('option', { value: 'en', selected: (current?.language ?? words.language) === 'en' }, 'English'))),
    h('fieldset', {}, h('legend', {}, words.t('topics')), TOPICS.map((topic) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'topics', value: topic, checked: current ? current.topics.includes(topic) : topic !== 'DOCUMENT_REVOKED' }), ` ${words.t(topic)}`))),
    h('button', { type: 'submit' }, words.t('save')),
    current ? h('button', {
        type: 'button',
        onclick: async () => {
            try {
                await api.delete('/v1/notifications/email');
                go(location.hash);
            } catch (error) {
                result.replaceChildren(errorBox(error));
            }
        },
    }, words.t('unsubscribe')) : null);
    return h('section', {}, h('h1', {}, words.t('notifications')), h('p', { class: 'note' }, words.t('notificationsNote')), form, result,
        h('h2', {}, words.t('mailsSent')),
        table([words.t('when'), words.t('mailSubject'), words.t('status'), words.t('attempts'), words.t('errors')], deliveries.map((delivery) => [
            words.time(delivery.createdAt), delivery.subject, words.t(`mail${delivery.status}`), delivery.attempts, delivery.lastError ?? '',
        ]), words.t('nothing')));
};
