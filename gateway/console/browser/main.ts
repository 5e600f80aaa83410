import { Api, errorBox, h, type Language, type Session, sessionOf, Words } from './core.js';
import { foreignPage } from './foreign.js';
import { auditPage, casesPage, exportPage, importPage, notificationsPage, overviewPage, type Page, tracePage, unconfirmedPage, verifyPage } from './pages.js';

/** Pages, and who may open each (by role; customs for permit verification). */
const PAGES: readonly { readonly name: string; readonly page: Page; readonly allowed: (session: Session) => boolean; readonly live: boolean }[] = [
    { name: 'overview', page: overviewPage, allowed: (session) => !session.uscc, live: true },
    { name: 'unconfirmed', page: unconfirmedPage, allowed: () => true, live: true },
    { name: 'cases', page: casesPage, allowed: () => true, live: false },
    { name: 'trace', page: tracePage, allowed: () => true, live: false },
    { name: 'verify', page: verifyPage, allowed: (session) => session.org === 'CustomsMSP' && (session.role === 'operator' || session.role === 'admin'), live: false },
    { name: 'audit', page: auditPage, allowed: (session) => session.role === 'auditor', live: false },
    { name: 'import', page: importPage, allowed: (session) => !session.uscc, live: false },
    { name: 'export', page: exportPage, allowed: () => true, live: false },
    { name: 'foreign', page: foreignPage, allowed: () => true, live: false },
    { name: 'notifications', page: notificationsPage, allowed: () => true, live: false },
];

const root = document.getElementById('app') as HTMLElement;
const words = new Words((localStorage.getItem('counterfoil.language') as Language | null) ?? (navigator.language.startsWith('zh') ? 'zh' : 'en'));
let session = sessionOf(sessionStorage.getItem('counterfoil.token') ?? '');
let leave = new AbortController();
let events = new AbortController();

function signIn(token: string): void {
    const next = sessionOf(token.trim());
    if (!next) {
        throw new Error('this is not a Counterfoil token');
    }
    sessionStorage.setItem('counterfoil.token', next.token);
    session = next;
    follow();
    go(next.uscc ? '#/trace' : '#/overview');
}

function signOut(): void {
    sessionStorage.removeItem('counterfoil.token');
    session = undefined;
    events.abort();
    location.hash = '';
    void render();
}

async function signInPage(): Promise<HTMLElement> {
    const problem = h('div', { 'aria-live': 'polite' });
    const section = h('section', { class: 'signin' }, h('h1', {}, words.t('signIn')),
        h('form', {
            onsubmit: (event: Event) => {
                event.preventDefault();
                try {
                    signIn(String(new FormData(event.target as HTMLFormElement).get('token') ?? ''));
                } catch (error) {
                    problem.replaceChildren(errorBox(error));
                }
            },
        }, h('label', {}, words.t('token'), h('textarea', { name: 'token', rows: 4, cols: 60, required: true })), h('button', { type: 'submit' }, words.t('signIn'))),
        problem);
    // With simulated agencies running, the hub offers ready-made personas.
    const answer = await fetch('/console/personas.json').catch(() => undefined);
    if (answer?.ok) {
        const personas = await answer.json() as { label: string; token: string }[];
        section.append(h('h2', {}, words.t('personas')), h('ul', { class: 'personas' }, personas.map((persona) => h('li', {},
            h('button', { type: 'button', 'data-persona': persona.label, onclick: () => signIn(persona.token) }, persona.label)))));
    }
    return section;
}

function header(): HTMLElement {
    const route = location.hash.slice(2).split(/[/?]/)[0] ?? '';
    return h('header', {},
        h('a', { class: 'brand', href: '#/overview' }, words.t('title')),
        session ? h('nav', { 'aria-label': 'pages' }, PAGES.filter((entry) => entry.allowed(session as Session)).map((entry) =>
            h('a', { href: `#/${entry.name}`, 'aria-current': route === entry.name ? 'page' : undefined }, words.t(entry.name)))) : null,
        h('span', { class: 'who' }, session ? `${words.t('signedInAs')} ${session.sub} · ${session.uscc ?? words.party(session.org)} · ${words.code('role', session.role)}` : '',
            h('span', { class: 'live', title: 'server-sent events' }, session ? `● ${words.t('live')}` : '')),
        h('button', {
            type: 'button', lang: words.language === 'en' ? 'zh' : 'en',
            onclick: () => {
                words.language = words.language === 'en' ? 'zh' : 'en';
                localStorage.setItem('counterfoil.language', words.language);
                document.documentElement.lang = words.language === 'zh' ? 'zh-CN' : 'en';
                void render();
            },
        }, words.t('language')),
        session ? h('button', { type: 'button', onclick: signOut }, words.t('signOut')) : null);
}

interface Favourite { label: string; target: string }

/** What the current page shows, as a favourite's label: the page's name and its filters. */
function currentLabel(): string {
    const [route = '', search = ''] = location.hash.slice(2).split('?');
    const [name = 'overview', ...rest] = route.split('/').map(decodeURIComponent);
    const filters = [...new URLSearchParams(search).entries()].filter(([key]) => key !== 'cursor').map(([key, value]) => `${words.t(key)}: ${value === 'true' ? '✓' : words.party(value)}`);
    return [words.t(name), ...rest, ...filters].join(' · ').slice(0, 80);
}

/** 收藏夹: the pages and filters the signed-in user pinned, kept by the hub for wherever it signs in. */
async function favouritesBar(): Promise<HTMLElement | string> {
    if (!session) {
        return '';
    }
    const api = new Api(session);
    const { items } = await api.get<{ items: Favourite[] }>('/v1/favourites').catch(() => ({ items: [] as Favourite[] }));
    const save = async (next: Favourite[]): Promise<void> => {
        await api.put('/v1/favourites', { items: next });
        void render();
    };
    const here = location.hash || '#/overview';
    const pinned = items.some((item) => item.target === here);
    return h('nav', { class: 'favourites', 'aria-label': words.t('favourites') },
        h('span', { class: 'label' }, `${words.t('favourites')}:`),
        items.length === 0 ? h('span', { class: 'empty' }, words.t('noFavourites')) : null,
        items.map((item, index) => h('span', { class: 'favourite' },
            h('a', { href: item.target, 'aria-current': item.target === here ? 'page' : undefined }, item.label),
            h('button', { type: 'button', class: 'link', 'aria-label': `${words.t('unpin')} ${item.label}`, onclick: () => void save(items.filter((_, other) => other !== index)) }, '×'))),
        pinned || items.length >= 30 ? null : h('button', { type: 'button', class: 'pin', onclick: () => void save([...items, { label: currentLabel(), target: here }]) }, `☆ ${words.t('pin')}`));
}

/** A warning above every page while the ledger's stored history does not verify. */
async function integrityBanner(): Promise<HTMLElement | string> {
    const answer = await fetch('/readyz').catch(() => undefined);
    const ready = await answer?.json().catch(() => undefined) as { checks?: { chain?: { verified: boolean; problems: { blockNumber: number; problem: string }[] } } } | undefined;
    const chain = ready?.checks?.chain;
    if (!chain || chain.verified) {
        return '';
    }
    return h('p', { class: 'error', role: 'alert' }, words.t('chainBroken'), ' ',
        chain.problems.slice(0, 3).map((problem) => `#${problem.blockNumber}: ${problem.problem}`).join('; '));
}

/** Counts renders: a render that a later one has overtaken stops, so that it never shows (or acts for) a page the reader has left. */
let renders = 0;

async function render(): Promise<void> {
    const generation = ++renders;
    leave.abort();
    leave = new AbortController();
    const signal = leave.signal;
    // The page is the one asked for now, not whatever the address says once the awaits below are over.
    const [name = 'overview', ...parts] = location.hash.slice(2).split('?')[0]?.split('/').map(decodeURIComponent) ?? [];
    document.documentElement.lang = words.language === 'zh' ? 'zh-CN' : 'en';
    // What the page shows, for whoever waits for it (a reader's tools, the browser tests): the route and the language.
    const main = h('main', { id: 'main', tabindex: -1, 'data-route': location.hash || '#/', 'data-language': words.language, 'aria-busy': 'true' });
    const banner = await integrityBanner();
    const favourites = await favouritesBar();
    if (generation !== renders) {
        return;
    }
    root.replaceChildren(header(), banner, favourites, main);
    if (!session) {
        main.append(await signInPage());
        main.removeAttribute('aria-busy');
        return;
    }
    const entry = PAGES.find((candidate) => candidate.name === name) ?? PAGES[0];
    if (!entry || !entry.allowed(session)) {
        main.append(h('p', { class: 'error' }, words.t('notAllowed')));
        main.removeAttribute('aria-busy');
        return;
    }
    try {
        main.append(await entry.page({ api: new Api(session), session, words, parts, go, signal }));
    } catch (error) {
        main.append(errorBox(error));
    }
    main.removeAttribute('aria-busy');
    document.title = `${words.t(entry.name)} · Counterfoil`;
}

/** Live updates: every event the signed-in party may see refreshes a live page (at most once a second). */
function follow(): void {
    events.abort();
    events = new AbortController();
    if (!session) {
        return;
    }
    let pending: number | undefined;
    const refresh = (): void => {
        const name = location.hash.slice(2).split(/[/?]/)[0] || 'overview';
        if (PAGES.find((entry) => entry.name === name)?.live && !root.querySelector(':focus')) {
            void render();
        }
    };
    const latest = new Api(session);
    void latest.stream('/v1/events?after=latest', () => {
        pending ??= window.setTimeout(() => {
            pending = undefined;
            refresh();
        }, 1000);
    }, events.signal).catch(() => undefined);
}

/** Goes to a page; going to the page one is on shows it afresh. */
function go(hash: string): void {
    if (location.hash === hash) {
        void render();
    } else {
        location.hash = hash;
    }
}

window.addEventListener('hashchange', () => void render());
follow();
void render();
