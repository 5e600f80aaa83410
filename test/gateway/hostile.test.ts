import { createHash, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { DAY, isoIn, permitRequest } from '../conformance/fixtures';
import { GatewayHarness } from './harness';
import { EXPORTER_USCC, OTHER_USCC, type Persona, PERSONAS } from './personas';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

interface HostileCase {
    readonly name: string;
    readonly method: string;
    readonly path: string;
    /** A persona's token, a literal token, or none. */
    readonly as?: Persona | { token: string } | 'nobody';
    readonly body?: unknown;
    readonly rawBody?: string | Uint8Array;
    readonly headers?: Record<string, string>;
    readonly status: number;
    readonly code: string;
    readonly field?: string;
}

describe('the gateway refuses hostile and malformed requests, changing nothing', function () {
    this.timeout(60_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();
    const forged: Record<string, string> = {};
    const declaration = '220120261300000001';
    const forexMessage = 'HOSTILE-TO-FOREX';

    before(async () => {
        harness = await GatewayHarness.start({ bodyLimitBytes: 64 * 1024 });
        tokens = await harness.personaTokens();
        const customs = tokens.get('customs') as string;
        await harness.request('POST', '/v1/documents', { token: customs, body: { type: 'EXPORT_DECLARATION', number: declaration, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: 'ZGF0YQ==' } });
        await harness.request('POST', '/v1/handoffs', { token: customs, body: { messageId: forexMessage, recipient: 'ForexMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256('p'), size: 1 } });
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const now = Math.floor(Date.now() / 1000);
        const claims = { org: 'CustomsMSP', role: 'operator' };
        forged.otherKey = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setIssuer('counterfoil-hub').setAudience('counterfoil').setSubject('x').setExpirationTime(now + 600).sign(privateKey);
        forged.unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, sub: 'x', iss: 'counterfoil-hub', aud: 'counterfoil', exp: now + 600 })).toString('base64url')}.`;
        forged.expired = await harness.token(PERSONAS.customs, { expiresInSeconds: -60, notBefore: now - 120 });
        forged.wrongAudience = await harness.token(PERSONAS.customs, { audience: 'another-system' });
        forged.notYetValid = await harness.token(PERSONAS.customs, { notBefore: now + 3600 });
        forged.unknownOrg = await harness.token({ subject: 'x', org: 'PoliceMSP', role: 'operator' });
        forged.enterpriseWithoutUscc = await harness.token({ subject: 'x', org: 'EnterprisesMSP', role: 'enterprise' });
        forged.badCheckDigit = await harness.token({ subject: 'x', org: 'EnterprisesMSP', role: 'enterprise', uscc: `${EXPORTER_USCC.slice(0, 17)}${EXPORTER_USCC.endsWith('0') ? '1' : '0'}` });
        forged.agencyAsEnterprise = await harness.token({ subject: 'x', org: 'CustomsMSP', role: 'enterprise', uscc: EXPORTER_USCC });
    });

    after(async () => {
        await harness?.stop();
    });

    const handoff = { messageId: 'H-1', recipient: 'TaxMSP', subject: EXPORTER_USCC, document: { type: 'EXPORT_DECLARATION', number: declaration }, payloadHash: sha256('x'), size: 10 };
    const licence = { ...permitRequest({ holder: EXPORTER_USCC, number: 'LIC-HOSTILE' }), content: 'Y29udGVudA==' };
    const verification = { declarationNumber: declaration, permit: { type: 'LICENCE', number: 'LIC-X' }, holder: EXPORTER_USCC, direction: 'EXPORT', goods: [{ hsCode: '7208510000', quantity: 10, unit: 'TNE' }], declaredAt: isoIn(-1000), port: '2201' };
    const token = (name: string): { token: string } => ({ get token(): string { return forged[name] as string; } });

    const cases: HostileCase[] = [
        { name: 'no credentials', method: 'GET', path: '/v1/handoffs', as: 'nobody', status: 401, code: 'UNAUTHENTICATED', field: 'authorization' },
        { name: 'a bearer token that is not a JWT', method: 'GET', path: '/v1/handoffs', as: { token: 'not-a-token' }, status: 401, code: 'UNAUTHENTICATED' },
        { name: 'a Basic authorisation header', method: 'GET', path: '/v1/handoffs', as: 'nobody', headers: { Authorization: 'Basic Y3VzdG9tczpwYXNz' }, status: 401, code: 'UNAUTHENTICATED' },
        { name: 'a token signed by another key', method: 'GET', path: '/v1/handoffs', as: token('otherKey'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'an unsigned token (alg none)', method: 'GET', path: '/v1/handoffs', as: token('unsigned'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'an expired token', method: 'GET', path: '/v1/handoffs', as: token('expired'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'a token for another audience', method: 'GET', path: '/v1/handoffs', as: token('wrongAudience'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'a token not valid yet', method: 'GET', path: '/v1/handoffs', as: token('notYetValid'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'a token of an organisation outside the hub', method: 'GET', path: '/v1/handoffs', as: token('unknownOrg'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'an enterprise token without a USCC', method: 'GET', path: '/v1/handoffs', as: token('enterpriseWithoutUscc'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'an enterprise token whose USCC check character is wrong', method: 'GET', path: '/v1/handoffs', as: token('badCheckDigit'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'an agency token claiming the enterprise role', method: 'GET', path: '/v1/handoffs', as: token('agencyAsEnterprise'), status: 401, code: 'UNAUTHENTICATED' },
        { name: 'malformed JSON', method: 'POST', path: '/v1/handoffs', as: 'customs', rawBody: '{"messageId": "H-1",', headers: { 'Content-Type': 'application/json' }, status: 400, code: 'INVALID_ARGUMENT', field: 'body' },
        { name: 'a JSON array for an object', method: 'POST', path: '/v1/handoffs', as: 'customs', body: [handoff], status: 400, code: 'INVALID_ARGUMENT' },
        { name: 'a body that is not JSON', method: 'POST', path: '/v1/handoffs', as: 'customs', rawBody: 'messageId=H-1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, status: 400, code: 'INVALID_ARGUMENT', field: 'body' },
        { name: 'a size given as a string', method: 'POST', path: '/v1/handoffs', as: 'customs', body: { ...handoff, size: '10' }, status: 400, code: 'INVALID_ARGUMENT', field: 'size' },
        { name: 'an unknown field', method: 'POST', path: '/v1/handoffs', as: 'customs', body: { ...handoff, priority: 'urgent' }, status: 400, code: 'INVALID_ARGUMENT', field: 'priority' },
        { name: 'a __proto__ member', method: 'POST', path: '/v1/handoffs', as: 'customs', rawBody: JSON.stringify(handoff).replace('{', '{"__proto__":{"admin":true},'), headers: { 'Content-Type': 'application/json' }, status: 400, code: 'INVALID_ARGUMENT', field: '__proto__' },
        { name: 'a missing field', method: 'POST', path: '/v1/handoffs', as: 'customs', body: { ...handoff, payloadHash: undefined }, status: 400, code: 'INVALID_ARGUMENT', field: 'payloadHash' },
        { name: 'a subject whose USCC check character is wrong', method: 'POST', path: '/v1/handoffs', as: 'customs', body: { ...handoff, subject: `${EXPORTER_USCC.slice(0, 17)}${EXPORTER_USCC.endsWith('0') ? '1' : '0'}` }, status: 400, code: 'INVALID_ARGUMENT', field: 'subject' },
        { name: 'an uppercase payload hash', method: 'POST', path: '/v1/handoffs', as: 'customs', body: { ...handoff, payloadHash: sha256('x').toUpperCase() }, status: 400, code: 'INVALID_ARGUMENT', field: 'payloadHash' },
        { name: 'a message id with a path separator', method: 'POST', path: '/v1/handoffs', as: 'customs', body: { ...handoff, messageId: '../../etc/passwd' }, status: 400, code: 'INVALID_ARGUMENT', field: 'messageId' },
        { name: 'a body larger than the limit', method: 'POST', path: '/v1/documents', as: 'commerce', body: { ...licence, content: Buffer.alloc(100 * 1024).toString('base64') }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
        { name: 'content that is not base64', method: 'POST', path: '/v1/documents', as: 'commerce', body: { ...licence, content: '%%% not base64 %%%' }, status: 400, code: 'INVALID_ARGUMENT', field: 'content' },
        { name: 'a declaration number of 17 digits', method: 'POST', path: '/v1/verifications', as: 'customs', body: { ...verification, declarationNumber: '22012026130000000' }, status: 400, code: 'INVALID_ARGUMENT', field: 'declarationNumber' },
        { name: 'an HS code with letters', method: 'POST', path: '/v1/verifications', as: 'customs', body: { ...verification, goods: [{ hsCode: '72085100AB', quantity: 10, unit: 'TNE' }] }, status: 400, code: 'INVALID_ARGUMENT', field: 'goods[0].hsCode' },
        { name: 'a negative quantity', method: 'POST', path: '/v1/verifications', as: 'customs', body: { ...verification, goods: [{ hsCode: '7208510000', quantity: -5, unit: 'TNE' }] }, status: 400, code: 'INVALID_ARGUMENT', field: 'goods[0].quantity' },
        { name: 'a fractional quantity', method: 'POST', path: '/v1/verifications', as: 'customs', body: { ...verification, goods: [{ hsCode: '7208510000', quantity: 0.5, unit: 'TNE' }] }, status: 400, code: 'INVALID_ARGUMENT', field: 'goods[0].quantity' },
        { name: 'a date that does not exist', method: 'POST', path: '/v1/verifications', as: 'customs', body: { ...verification, declaredAt: '2026-02-30T10:00:00Z' }, status: 400, code: 'INVALID_ARGUMENT', field: 'declaredAt' },
        { name: 'control characters in a reason', method: 'POST', path: `/v1/handoffs/CustomsMSP/${forexMessage}/cancellation`, as: 'customs', body: { reason: 'dup\u0000licate' }, status: 400, code: 'INVALID_ARGUMENT', field: 'reason' },
        // Text and instants the ledger and PostgreSQL cannot both hold: refused at the edge (and by
        // the chaincode, for clients of the ledger that bypass the gateway).
        { name: 'half of a surrogate pair in a summary value', method: 'POST', path: '/v1/documents', as: 'commerce', rawBody: JSON.stringify({ ...licence, summary: { holderName: 'x' } }).replace('"x"', '"\\ud800"'), headers: { 'Content-Type': 'application/json' }, status: 400, code: 'INVALID_ARGUMENT', field: 'summary.holderName' },
        { name: 'the NUL character in a summary value', method: 'POST', path: '/v1/documents', as: 'commerce', body: { ...licence, summary: { holderName: 'a\u0000b' } }, status: 400, code: 'INVALID_ARGUMENT', field: 'summary.holderName' },
        { name: 'half of a surrogate pair in an acknowledgement text', method: 'POST', path: `/v1/handoffs/CustomsMSP/${forexMessage}/acknowledgement`, as: 'forex', rawBody: '{"decision":"REJECTED","reasonCode":"DATA_INCOMPLETE","text":"\\udfff"}', headers: { 'Content-Type': 'application/json' }, status: 400, code: 'INVALID_ARGUMENT', field: 'text' },
        { name: 'a body whose bytes are not UTF-8', method: 'POST', path: `/v1/handoffs/CustomsMSP/${forexMessage}/cancellation`, as: 'customs', rawBody: Buffer.concat([Buffer.from('{"reason":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), headers: { 'Content-Type': 'application/json' }, status: 400, code: 'INVALID_ARGUMENT', field: 'body' },
        { name: 'a validity from year 0', method: 'POST', path: '/v1/documents', as: 'commerce', body: { ...licence, validFrom: '0000-01-01T00:00:00Z' }, status: 400, code: 'INVALID_ARGUMENT', field: 'validFrom' },
        { name: 'a validity ending after year 9999 in UTC', method: 'POST', path: '/v1/documents', as: 'commerce', body: { ...licence, validTo: '9999-12-31T23:59:59-23:59' }, status: 400, code: 'INVALID_ARGUMENT', field: 'validTo' },
        { name: 'a list from year 0', method: 'GET', path: '/v1/handoffs?from=0000-01-01T00:00:00Z', as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'from' },
        { name: 'a list from after year 9999 in UTC', method: 'GET', path: `/v1/handoffs?from=${encodeURIComponent('9999-12-31T23:59:59-23:59')}`, as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'from' },
        { name: 'an audit record as of year 0', method: 'GET', path: `/v1/audit/handoffs/CustomsMSP/${forexMessage}?asOf=0000-01-01T00:00:00Z`, as: 'auditor', status: 400, code: 'INVALID_ARGUMENT', field: 'asOf' },
        { name: 'the NUL character in a query parameter', method: 'GET', path: '/v1/unconfirmed?sender=CustomsMSP&minAgeSeconds=%00', as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'minAgeSeconds' },
        { name: 'a cursor holding the NUL character', method: 'GET', path: `/v1/handoffs?cursor=${Buffer.from('["2026-01-01T00:00:00.000Z","CustomsMSP","a\u0000b"]').toString('base64url')}`, as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'cursor' },
        { name: 'a cursor holding a time no database holds', method: 'GET', path: `/v1/handoffs?cursor=${Buffer.from('["0000-01-01T00:00:00Z","CustomsMSP","x"]').toString('base64url')}`, as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'cursor' },
        { name: 'a cursor of numbers', method: 'GET', path: `/v1/cases?cursor=${Buffer.from('[1,2]').toString('base64url')}`, as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'cursor' },
        { name: 'a forged cursor of the unconfirmed transfers', method: 'GET', path: `/v1/unconfirmed?sender=CustomsMSP&cursor=${Buffer.from('["not a time","CustomsMSP","x"]').toString('base64url')}`, as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'cursor' },
        { name: 'an enterprise reading another enterprise\'s trace', method: 'GET', path: `/v1/enterprises/${EXPORTER_USCC}/trace`, as: 'other', status: 403, code: 'FORBIDDEN', field: 'uscc' },
        { name: 'an enterprise listing another enterprise\'s documents', method: 'GET', path: `/v1/documents?holder=${EXPORTER_USCC}`, as: 'other', status: 403, code: 'FORBIDDEN', field: 'holder' },
        { name: 'an enterprise reading another enterprise\'s handoff', method: 'GET', path: `/v1/handoffs/CustomsMSP/${forexMessage}`, as: 'other', status: 403, code: 'FORBIDDEN', field: 'caller' },
        { name: 'tax acknowledging a handoff addressed to forex', method: 'POST', path: `/v1/handoffs/CustomsMSP/${forexMessage}/acknowledgement`, as: 'tax', body: { decision: 'ACCEPTED' }, status: 403, code: 'FORBIDDEN', field: 'caller' },
        { name: 'tax recording receipt of a handoff addressed to forex', method: 'POST', path: `/v1/handoffs/CustomsMSP/${forexMessage}/receipt`, as: 'tax', body: { payloadHash: sha256('p') }, status: 403, code: 'FORBIDDEN', field: 'caller' },
        { name: 'forex retransmitting a customs handoff', method: 'POST', path: `/v1/handoffs/CustomsMSP/${forexMessage}/retransmissions`, as: 'forex', body: { attempt: 1 }, status: 403, code: 'FORBIDDEN', field: 'sender' },
        { name: 'an enterprise issuing a licence', method: 'POST', path: '/v1/documents', as: 'exporter', body: licence, status: 403, code: 'FORBIDDEN', field: 'caller' },
        { name: 'commerce verifying a permit', method: 'POST', path: '/v1/verifications', as: 'commerce', body: verification, status: 403, code: 'FORBIDDEN', field: 'caller' },
        { name: 'an auditor sending a handoff', method: 'POST', path: '/v1/handoffs', as: 'auditor', body: handoff, status: 403, code: 'FORBIDDEN', field: 'caller' },
        { name: 'an operator setting deadline policies', method: 'POST', path: '/v1/deadline-policies', as: 'customs', body: { documentType: '*', sender: '*', recipient: '*', receiptSeconds: 60, acknowledgementSeconds: 60 }, status: 403, code: 'FORBIDDEN', field: 'caller' },
        { name: 'a resent message id with different content', method: 'POST', path: '/v1/handoffs', as: 'customs', body: { ...handoff, messageId: forexMessage, recipient: 'ForexMSP', payloadHash: sha256('other') }, status: 409, code: 'CONFLICT', field: 'messageId' },
        { name: 'a document never issued', method: 'GET', path: '/v1/documents/LICENCE/NEVER-ISSUED', as: 'customs', status: 404, code: 'NOT_FOUND', field: 'document' },
        { name: 'a route that does not exist', method: 'GET', path: '/v1/passwords', as: 'customs', status: 404, code: 'NOT_FOUND', field: 'path' },
        { name: 'a method the route does not have', method: 'DELETE', path: '/v1/handoffs', as: 'customs', status: 405, code: 'METHOD_NOT_ALLOWED', field: 'method' },
        { name: 'an unknown query parameter', method: 'GET', path: '/v1/handoffs?debug=1', as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'debug' },
        { name: 'SQL in a path parameter', method: 'GET', path: `/v1/documents/LICENCE/${encodeURIComponent("x' OR '1'='1")}`, as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'number' },
        { name: 'SQL in a query parameter', method: 'GET', path: `/v1/documents?holder=${encodeURIComponent("' OR 1=1 --")}`, as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'holder' },
        { name: 'a forged cursor', method: 'GET', path: `/v1/handoffs?cursor=${Buffer.from('["2026-01-01", "x\' OR 1=1"]').toString('base64url')}`, as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'cursor' },
        { name: 'a page size over the limit', method: 'GET', path: '/v1/handoffs?limit=10000', as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'limit' },
        { name: 'a repeated query parameter', method: 'GET', path: '/v1/handoffs?status=SENT&status=RECEIVED', as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'status' },
        { name: 'a path traversal in a parameter', method: 'GET', path: '/v1/documents/LICENCE/..%2F..%2Fetc%2Fpasswd', as: 'customs', status: 400, code: 'INVALID_ARGUMENT', field: 'number' },
        { name: 'a trace with a USCC of the wrong check character', method: 'GET', path: `/v1/enterprises/${OTHER_USCC.slice(0, 17)}${OTHER_USCC.endsWith('0') ? '1' : '0'}/trace`, as: 'auditor', status: 400, code: 'INVALID_ARGUMENT', field: 'uscc' },
        { name: 'a garbage Last-Event-ID', method: 'GET', path: '/v1/events', as: 'customs', headers: { 'Last-Event-ID': '1; DROP TABLE ledger_events' }, status: 400, code: 'INVALID_ARGUMENT', field: 'last-event-id' },
        { name: 'a webhook to a non-HTTP URL', method: 'POST', path: '/v1/webhooks', as: 'tax', body: { url: 'file:///etc/passwd', events: ['*'] }, status: 400, code: 'INVALID_ARGUMENT', field: 'url' },
        { name: 'a webhook to a URL without a host', method: 'POST', path: '/v1/webhooks', as: 'tax', body: { url: 'http://', events: ['*'] }, status: 400, code: 'INVALID_ARGUMENT', field: 'url' },
        { name: 'a webhook for an unknown event', method: 'POST', path: '/v1/webhooks', as: 'tax', body: { url: 'https://tax.example.cn/hook', events: ['EverythingHappened'] }, status: 400, code: 'INVALID_ARGUMENT', field: 'events[0]' },
    ];

    for (const hostile of cases) {
        it(`answers ${hostile.status} ${hostile.code} to ${hostile.name}`, async () => {
            const before = await harness.fingerprint();
            const credential = hostile.as === undefined || hostile.as === 'nobody' ? undefined
                : typeof hostile.as === 'string' ? tokens.get(hostile.as) : hostile.as.token;
            const answer = await harness.request<{ code: string; field?: string; status: number }>(hostile.method, hostile.path, {
                token: credential, body: hostile.body, rawBody: hostile.rawBody, headers: hostile.headers,
            });
            expect(answer.status, answer.text).to.equal(hostile.status);
            expect(answer.headers.get('content-type')).to.contain('application/problem+json');
            expect(answer.body.code).to.equal(hostile.code);
            expect(answer.body.status).to.equal(hostile.status);
            if (hostile.field !== undefined) {
                expect(answer.body.field, answer.text).to.equal(hostile.field);
            }
            expect(await harness.fingerprint(), 'the refused request changed the ledger or the database').to.equal(before);
        });
    }

    it('limits each principal\'s request rate and says when to retry', async () => {
        const limited = await GatewayHarness.start({ rateLimitPerMinute: 5 });
        try {
            const customs = await limited.token(PERSONAS.customs);
            const statuses: number[] = [];
            let last;
            for (let index = 0; index < 7; index++) {
                last = await limited.request<{ code: string }>('GET', '/v1/handoffs', { token: customs });
                statuses.push(last.status);
            }
            expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
            expect(last?.body.code).to.equal('RATE_LIMITED');
            expect(Number(last?.headers.get('retry-after'))).to.be.greaterThan(0);
            const tax = await limited.token(PERSONAS.tax);
            expect((await limited.request('GET', '/v1/handoffs', { token: tax })).status, 'another principal is not limited by the first').to.equal(200);
        } finally {
            await limited.stop();
        }
    });
});
