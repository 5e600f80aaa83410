import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { loadOrCreateKey } from '../../gateway/auth/key-file';
import { TokenService } from '../../gateway/auth/tokens';
import { Problem } from '../../gateway/http/problem';
import { EXPORTER_USCC } from '../gateway/personas';

describe('bearer tokens checked once per token', () => {
    let dir: string;
    let now = Date.parse('2026-11-24T08:00:00Z');
    let tokens: TokenService;

    before(async () => {
        dir = await mkdtemp(join(tmpdir(), 'tokens-'));
        tokens = await TokenService.open(join(dir, 'token.pem'), () => now);
    });

    after(async () => {
        await rm(dir, { recursive: true, force: true });
    });

    async function refusal(token: string): Promise<string> {
        try {
            await tokens.verify(token);
        } catch (error) {
            expect(error).to.be.instanceOf(Problem);
            return (error as Problem).message;
        }
        throw new Error('the token was accepted');
    }

    it('stops accepting a token it has already verified once the token expires', async () => {
        const token = await tokens.issue({ subject: 'officer', org: 'CustomsMSP', role: 'operator' }, { expiresInSeconds: 60 });
        expect((await tokens.verify(token)).subject).to.equal('officer');
        now += 30_000;
        expect((await tokens.verify(token)).org).to.equal('CustomsMSP');
        now += 40_000; // 70 s after issue: past the expiry and its 5 s of tolerance
        expect(await refusal(token)).to.equal('the token has expired');
    });

    it('never remembers a forged token as good: one changed byte is refused every time', async () => {
        const token = await tokens.issue({ subject: 'trader', org: 'EnterprisesMSP', role: 'enterprise', uscc: EXPORTER_USCC });
        expect((await tokens.verify(token)).uscc).to.equal(EXPORTER_USCC);
        const [header, payload, signature] = token.split('.') as [string, string, string];
        const forged = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
        expect(await refusal(forged)).to.equal('the token was not signed by this hub');
        expect(await refusal(forged)).to.equal('the token was not signed by this hub');
    });

    /** A token signed with the hub's own key, with exactly the claims given. */
    async function signed(claims: Record<string, unknown>): Promise<string> {
        return new SignJWT({ org: 'CustomsMSP', role: 'operator', ...claims }).setProtectedHeader({ alg: 'ES256' })
            .setIssuer('counterfoil-hub').setAudience('counterfoil').setSubject('officer').sign(await loadOrCreateKey(join(dir, 'token.pem')));
    }

    it('refuses a token that never expires, or does not say when it was issued', async () => {
        const issued = Math.floor(now / 1000);
        expect(await refusal(await signed({ iat: issued }))).to.match(/no exp claim/);
        expect(await refusal(await signed({ exp: issued + 600 }))).to.match(/no iat claim/);
    });

    it('refuses a token valid for longer than the hub allows, even while it is young', async () => {
        const issued = Math.floor(now / 1000);
        expect(await refusal(await signed({ iat: issued, exp: issued + tokens.maxLifetimeSeconds + 60 }))).to.match(/more than 2592000 seconds/);
        expect((await tokens.verify(await signed({ iat: issued, exp: issued + tokens.maxLifetimeSeconds }))).subject).to.equal('officer');
        await tokens.issue({ subject: 'officer', org: 'CustomsMSP', role: 'operator' }, { expiresInSeconds: tokens.maxLifetimeSeconds + 1 })
            .then(() => expect.fail('issued a token over the limit'), (error: Error) => expect(error.message).to.match(/at most/));
    });
});
