import { expect } from 'chai';
import { DAY, isoIn } from '../conformance/fixtures';
import { until } from '../support/until';
import { GatewayHarness } from './harness';
import { EXPORTER_USCC, type Persona } from './personas';

interface Readiness {
    readonly status: string;
    readonly checks: { indexer?: { block: number; failing: { block: number; error: string; attempts: number } | null } };
}

describe('a block the query tables cannot take', function () {
    this.timeout(120_000);
    let harness: GatewayHarness;
    let tokens = new Map<Persona, string>();

    before(async () => {
        harness = await GatewayHarness.start();
        tokens = await harness.personaTokens();
    });

    after(async () => {
        await harness?.stop();
    });

    const declaration = (n: number): Record<string, unknown> => ({
        type: 'EXPORT_DECLARATION', number: `22012026170000000${n}`, holder: EXPORTER_USCC, validFrom: isoIn(-DAY), validTo: isoIn(DAY), content: 'ZGF0YQ==',
    });

    it('is an outage named in /readyz and /metrics, retried until it passes, and never skipped', async () => {
        await harness.database.pool.query('ALTER TABLE documents RENAME TO documents_away');
        let failing: number;
        try {
            const issued = await harness.request<{ number: string }>('POST', '/v1/documents', { token: tokens.get('customs'), body: declaration(1) });
            expect(issued.status, issued.text).to.equal(201);
            const blocked = await until(async () => {
                const answer = await harness.request<Readiness>('GET', '/readyz');
                return answer.status === 503 ? answer.body : undefined;
            }, '/readyz to report the outage');
            expect(blocked.status).to.equal('unavailable');
            failing = (blocked.checks.indexer?.failing?.block) as number;
            expect(failing).to.equal(Number((await harness.ledger.info()).height - 1n));
            expect(blocked.checks.indexer?.failing?.error).to.match(new RegExp(`block ${failing} .*documents`));
            expect(blocked.checks.indexer?.block).to.be.below(failing);
            const metrics = await harness.request<string>('GET', '/metrics');
            expect(metrics.body).to.match(new RegExp(`^counterfoil_indexer_failing_block ${failing}$`, 'm'));
            // Blocks after the one at fault wait behind it; the ledger goes on.
            const next = await harness.request('POST', '/v1/documents', { token: tokens.get('customs'), body: declaration(2) });
            expect(next.status, next.text).to.equal(201);
            const retried = await until(async () => {
                const answer = await harness.request<Readiness>('GET', '/readyz');
                return (answer.body.checks.indexer?.failing?.attempts ?? 0) >= 2 ? answer.body : undefined;
            }, 'a second attempt at the block');
            expect(retried.checks.indexer?.failing?.block, 'the indexer never passes over the block at fault').to.equal(failing);
        } finally {
            await harness.database.pool.query('ALTER TABLE documents_away RENAME TO documents');
        }
        await until(async () => (await harness.request('GET', '/readyz')).status === 200, '/readyz to recover');
        const metrics = await harness.request<string>('GET', '/metrics');
        expect(metrics.body).to.match(/^counterfoil_indexer_failing_block -1$/m);
        const listed = await harness.request<{ items: { number: string }[] }>('GET', `/v1/documents?holder=${EXPORTER_USCC}`, { token: tokens.get('customs') });
        expect(listed.body.items.map((item) => item.number)).to.include.members([declaration(1).number, declaration(2).number]);
    });
});
