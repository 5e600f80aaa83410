import { type Api, errorBox, h, table, type Words } from './core.js';
import { type Page, pager } from './pages.js';

interface Signer { fingerprint: string; subject: string; validFrom: string; validTo: string; retiredAt?: string; retiredReason?: string }
interface Authority { authorityId: string; country: string; name: string; contact: string; version: number; signers: Signer[] }
interface Certificate {
    authorityId: string; kind: string; number: string; holder: string; signedAt: string; verdict: string; findings: { code: string }[]; caseId?: string;
    receivedBy: string; receivedAt: string; signer: { subject: string };
}

/** A form that posts what it holds and shows the page again, or the problem. */
function action(api: Api, go: (hash: string) => void, result: HTMLElement, send: (data: FormData) => Promise<unknown>, ...fields: HTMLElement[]): HTMLElement {
    return h('form', {
        onsubmit: async (event: Event) => {
            event.preventDefault();
            try {
                await send(new FormData(event.target as HTMLFormElement));
                go(location.hash);
            } catch (error) {
                result.replaceChildren(errorBox(error));
            }
        },
    }, ...fields);
}

/**
 * Foreign e-certificates: the registry of foreign issuing authorities and their signing
 * certificates (kept by customs' administrators), the signed certificates received and the
 * verdict on each, and, for customs and inspection, receiving one by hand.
 */
export const foreignPage: Page = async ({ api, session, words, go }) => {
    const cursor = new URLSearchParams(location.hash.split('?')[1] ?? '').get('cursor');
    const [authorities, received] = await Promise.all([
        api.get<Authority[]>('/v1/authorities'),
        api.get<{ items: Certificate[]; nextCursor: string | null }>(`/v1/foreign-certificates?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    ]);
    const result = h('div', { class: 'result', 'aria-live': 'polite' });
    const registrar = session.org === 'CustomsMSP' && session.role === 'admin';
    const receiver = (session.org === 'CustomsMSP' || session.org === 'InspectionMSP') && (session.role === 'operator' || session.role === 'admin');
    const section = h('section', {}, h('h1', {}, words.t('foreign')), h('p', { class: 'note' }, words.t('foreignNote')), result);

    if (receiver) {
        section.append(h('h2', {}, words.t('receiveCertificate')), action(api, go, result, async (data) => {
            const file = data.get('file') as File | null;
            if (file && file.size > 0) {
                await api.upload('/v1/foreign-certificates', file, 'application/xml');
            }
        }, h('label', {}, words.t('signedXml'), h('input', { name: 'file', type: 'file', accept: '.xml,application/xml,text/xml', required: true })), h('button', { type: 'submit' }, words.t('upload'))));
    }

    section.append(h('h2', {}, words.t('receivedCertificates')),
        table([words.t('when'), words.t('authority'), words.t('number'), words.t('kind'), words.t('holder'), words.t('verdict'), words.t('findings')], received.items.map((item) => [
            words.time(item.receivedAt), item.authorityId, item.number, words.code('kind', item.kind), item.holder,
            h('span', { class: item.verdict === 'VERIFIED' ? 'ok' : 'bad' }, words.code('verdict', item.verdict)),
            item.caseId ? h('a', { href: `#/cases/${encodeURIComponent(item.caseId)}` }, item.findings.map((finding) => words.code('finding', finding.code)).join(', ')) : '—',
        ]), words.t('nothing')),
        pager(words, '#/foreign', cursor, received.nextCursor));

    section.append(h('h2', {}, words.t('authorities')));
    for (const authority of authorities) {
        section.append(h('article', { class: 'authority', 'data-authority': authority.authorityId },
            h('h3', {}, `${authority.authorityId} · ${authority.name}`),
            h('p', {}, `${words.t('country')}: ${authority.country} · ${words.t('contact')}: ${authority.contact} · ${words.t('version')} ${authority.version}`),
            table([words.t('signer'), 'SHA-256', words.t('acceptedFrom'), words.t('acceptedTo'), words.t('retired'), ''], authority.signers.map((signer) => [
                signer.subject, h('code', {}, `${signer.fingerprint.slice(0, 16)}…`), words.time(signer.validFrom), words.time(signer.validTo),
                signer.retiredAt ? `${words.time(signer.retiredAt)} (${signer.retiredReason ?? ''})` : '—',
                registrar && !signer.retiredAt ? action(api, go, result, (data) => api.post(`/v1/authorities/${authority.authorityId}/signers/${signer.fingerprint}/retirement`, { reason: String(data.get('reason')) }),
                    h('input', { name: 'reason', required: true, pattern: '[A-Z][A-Z0-9_]{0,47}', value: 'KEY_ROLLOVER', 'aria-label': words.t('reason') }), h('button', { type: 'submit' }, words.t('retire'))) : '',
            ]), words.t('nothing')),
            registrar ? action(api, go, result, (data) => api.post(`/v1/authorities/${authority.authorityId}/signers`, { certificate: String(data.get('certificate')) }),
                h('label', {}, words.t('signingCertificate'), h('textarea', { name: 'certificate', rows: 4, cols: 64, required: true, placeholder: '-----BEGIN CERTIFICATE-----' })),
                h('button', { type: 'submit' }, words.t('addSigner'))) : ''));
    }
    if (authorities.length === 0) {
        section.append(h('p', { class: 'empty' }, words.t('nothing')));
    }
    if (registrar) {
        section.append(h('h2', {}, words.t('registerAuthority')), action(api, go, result, (data) => api.post('/v1/authorities', Object.fromEntries(['authorityId', 'country', 'name', 'contact'].map((name) => [name, String(data.get(name))]))),
            h('label', {}, words.t('authority'), h('input', { name: 'authorityId', required: true, pattern: '[A-Z]{2}(-[A-Z0-9]{1,16}){1,3}', placeholder: 'AU-DAFF' })),
            h('label', {}, words.t('country'), h('input', { name: 'country', required: true, pattern: '[A-Z]{2}', size: 2 })),
            h('label', {}, words.t('name'), h('input', { name: 'name', required: true, size: 40 })),
            h('label', {}, words.t('contact'), h('input', { name: 'contact', type: 'email', required: true, size: 30 })),
            h('button', { type: 'submit' }, words.t('register'))));
    }
    return section;
};
