import { expect } from 'chai';
import type { DocumentRecord, VerificationRecord } from '@counterfoil/chaincode';
import { declarationNumber, isoIn, permitRequest, STEEL } from '../conformance/fixtures';
import { GatewayHarness } from './harness';
import { EXPORTER_USCC, type Persona } from './personas';

describe('transactions that lose a race at commit', function () {
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

    it('are endorsed again by the gateway: twenty ports verifying one licence at once all get a verdict', async () => {
        const request = permitRequest({ holder: EXPORTER_USCC, goods: [{ hsCode: STEEL, quantity: 2000, unit: 'TNE' }], useLimit: 12 });
        const issued = await harness.request<DocumentRecord>('POST', '/v1/documents', { token: tokens.get('commerce'), body: { ...request, content: 'bGljZW5jZQ==' } });
        expect(issued.status, issued.text).to.equal(201);
        const answers = await Promise.all(Array.from({ length: 20 }, (_unused, port) => harness.request<VerificationRecord & { code?: string }>('POST', '/v1/verifications', {
            token: tokens.get('customs'),
            body: {
                declarationNumber: declarationNumber(String(2201 + port)), permit: { type: 'LICENCE', number: request.number }, holder: EXPORTER_USCC,
                direction: 'EXPORT', goods: [{ hsCode: STEEL, quantity: 10, unit: 'TNE' }], declaredAt: isoIn(-60_000), port: String(2201 + port),
            },
        })));
        expect(answers.map((answer) => answer.status), answers.map((answer) => answer.text).join('\n')).to.deep.equal(Array(20).fill(200));
        const verdicts = answers.map((answer) => answer.body);
        expect(verdicts.filter((verdict) => verdict.verdict === 'VALID')).to.have.length(12);
        const refused = verdicts.filter((verdict) => verdict.verdict === 'REJECTED');
        expect(refused).to.have.length(8);
        expect(refused.every((verdict) => verdict.reasons.some((reason) => reason.code === 'USES_EXHAUSTED'))).to.equal(true);
        const licence = await harness.request<DocumentRecord>('GET', `/v1/documents/LICENCE/${request.number}`, { token: tokens.get('customs') });
        expect(licence.body.permit?.usesCount).to.equal(12);
        expect(licence.body.permit?.goods[0]?.drawn, 'never drawn more than the valid verifications declared').to.equal(120);
    });
});
