import { expect } from 'chai';
import type { DocumentRecord, Page, VerificationRecord } from '@counterfoil/chaincode';
import { CommitError } from '../../network/ledger';
import { expectRefusal } from './client';
import {
    contentOf, COPPER_ORE, DAY, declarationRequest, isoIn, type LicenceOptions, permitRequest, SOYBEANS, STEEL,
} from './fixtures';
import { onEveryBackend } from './world';

onEveryBackend('permit verification', (world) => {

    async function issue(options: Partial<LicenceOptions> = {}): Promise<DocumentRecord> {
        const request = permitRequest({ holder: world.exporterUscc, ...options });
        const issuer = options.type === 'ORIGIN_CERT' || options.type === 'INSPECTION_CERT' ? world.inspection : world.commerce;
        return issuer.submit<DocumentRecord>('documents', 'Issue', request, contentOf(request));
    }

    function verify(licence: DocumentRecord, overrides: Partial<Parameters<typeof declarationRequest>[0]> = {}): Promise<VerificationRecord> {
        return world.customs.submit<VerificationRecord>('verifications', 'Verify', declarationRequest({
            permitNumber: licence.number, permitType: licence.type, holder: world.exporterUscc, ...overrides,
        }));
    }

    async function licenceNow(licence: DocumentRecord): Promise<DocumentRecord> {
        return world.customs.evaluate<DocumentRecord>('documents', 'Get', { type: licence.type, number: licence.number });
    }

    it('draws the declared quantity and one use from a valid licence, and reports what remains', async () => {
        const licence = await issue();
        const verdict = await verify(licence, { goods: [{ hsCode: STEEL, quantity: 250, unit: 'TNE' }] });
        expect(verdict.verdict).to.equal('VALID');
        expect(verdict.reasons).to.deep.equal([]);
        expect(verdict.balance).to.deep.equal([{ hsCode: STEEL, unit: 'TNE', licensed: 1000, drawn: 250, remaining: 750 }]);
        expect(verdict.usesRemaining).to.equal(11);
        const after = await licenceNow(licence);
        expect(after.permit?.goods[0]?.drawn).to.equal(250);
        expect(after.permit?.usesCount).to.equal(1);
    });

    it('returns the first verdict when the same declaration is verified again, without drawing twice', async () => {
        const licence = await issue();
        const request = declarationRequest({ permitNumber: licence.number, holder: world.exporterUscc });
        const first = await world.customs.submit<VerificationRecord>('verifications', 'Verify', request);
        const second = await world.customs.submit<VerificationRecord>('verifications', 'Verify', request);
        expect(second).to.deep.equal(first);
        expect((await licenceNow(licence)).permit?.goods[0]?.drawn).to.equal(100);
    });

    it('refuses the same declaration and permit with different particulars', async () => {
        const licence = await issue();
        const request = declarationRequest({ permitNumber: licence.number, holder: world.exporterUscc });
        await world.customs.submit('verifications', 'Verify', request);
        const changed = { ...request, goods: [{ hsCode: STEEL, quantity: 101, unit: 'TNE' }] };
        await world.unchanged(() => expectRefusal(world.customs.submit('verifications', 'Verify', changed), 'CONFLICT', 'declarationNumber'));
    });

    it('rejects the 13th use of a multi-use licence', async () => {
        const licence = await issue({ useLimit: 12 });
        for (let use = 1; use <= 12; use++) {
            const verdict = await verify(licence, { goods: [{ hsCode: STEEL, quantity: 10, unit: 'TNE' }] });
            expect(verdict.verdict, `use ${use}`).to.equal('VALID');
        }
        expect((await licenceNow(licence)).status).to.equal('EXHAUSTED');
        const thirteenth = await verify(licence, { goods: [{ hsCode: STEEL, quantity: 10, unit: 'TNE' }] });
        expect(thirteenth.verdict).to.equal('REJECTED');
        expect(thirteenth.reasons.map((reason) => reason.code)).to.deep.equal(['USES_EXHAUSTED']);
        expect((await licenceNow(licence)).permit?.goods[0]?.drawn).to.equal(120);
    });

    it('rejects a second declaration against a one-batch licence', async () => {
        const licence = await issue({ useLimit: 1 });
        expect((await verify(licence)).verdict).to.equal('VALID');
        const second = await verify(licence);
        expect(second.reasons.map((reason) => reason.code)).to.deep.equal(['USES_EXHAUSTED']);
    });

    it('accepts 105 % of a bulk licence and rejects 105 % plus one base unit', async () => {
        const exact = await issue({ bulk: true, goods: [{ hsCode: COPPER_ORE, quantity: 1000, unit: 'KGM' }] });
        const accepted = await verify(exact, { goods: [{ hsCode: COPPER_ORE, quantity: 1050, unit: 'KGM' }] });
        expect(accepted.verdict).to.equal('VALID');
        expect(accepted.balance[0]?.remaining).to.equal(0);
        const over = await issue({ bulk: true, goods: [{ hsCode: COPPER_ORE, quantity: 1000, unit: 'KGM' }] });
        const rejected = await verify(over, { goods: [{ hsCode: COPPER_ORE, quantity: 1051, unit: 'KGM' }] });
        expect(rejected.verdict).to.equal('REJECTED');
        expect(rejected.reasons.map((reason) => reason.code)).to.deep.equal(['QUANTITY_EXCEEDED']);
        expect((await licenceNow(over)).permit?.goods[0]?.drawn).to.equal(0);
    });

    it('allows no overage on a licence that is not for bulk cargo', async () => {
        const licence = await issue({ goods: [{ hsCode: STEEL, quantity: 1000, unit: 'TNE' }] });
        const rejected = await verify(licence, { goods: [{ hsCode: STEEL, quantity: 1001, unit: 'TNE' }] });
        expect(rejected.reasons.map((reason) => reason.code)).to.deep.equal(['QUANTITY_EXCEEDED']);
        expect((await verify(licence, { goods: [{ hsCode: STEEL, quantity: 1000, unit: 'TNE' }] })).verdict).to.equal('VALID');
    });

    it('adds up the quantities of successive declarations across ports', async () => {
        const licence = await issue();
        expect((await verify(licence, { port: '2201', goods: [{ hsCode: STEEL, quantity: 600, unit: 'TNE' }] })).verdict).to.equal('VALID');
        const second = await verify(licence, { port: '5300', goods: [{ hsCode: STEEL, quantity: 500, unit: 'TNE' }] });
        expect(second.reasons.map((reason) => reason.code)).to.deep.equal(['QUANTITY_EXCEEDED']);
        expect((await verify(licence, { port: '4200', goods: [{ hsCode: STEEL, quantity: 400, unit: 'TNE' }] })).verdict).to.equal('VALID');
    });

    it('never overdraws when ports verify the same licence at the same moment', async () => {
        const licence = await issue({ goods: [{ hsCode: STEEL, quantity: 1000, unit: 'TNE' }] });
        const ports = ['2201', '5300', '4200', '0100', '2900'];
        const verdicts = await Promise.all(ports.map(async (port) => {
            const request = declarationRequest({ permitNumber: licence.number, holder: world.exporterUscc, port, goods: [{ hsCode: STEEL, quantity: 300, unit: 'TNE' }] });
            for (let attempt = 0; ; attempt++) {
                try {
                    return await world.customs.submit<VerificationRecord>('verifications', 'Verify', request);
                } catch (error) {
                    // Two ports raced for the same licence and this one lost: verify again.
                    if (!(error instanceof CommitError) || attempt > 20) {
                        throw error;
                    }
                }
            }
        }));
        const valid = verdicts.filter((verdict) => verdict.verdict === 'VALID').length;
        expect(valid).to.equal(3);
        expect((await licenceNow(licence)).permit?.goods[0]?.drawn).to.equal(900);
    });

    it('releases a cancelled declaration exactly once, restoring quantity and use', async () => {
        const licence = await issue({ useLimit: 1 });
        const verdict = await verify(licence, { goods: [{ hsCode: STEEL, quantity: 400, unit: 'TNE' }] });
        expect((await licenceNow(licence)).status).to.equal('EXHAUSTED');
        const release = { declarationNumber: verdict.declarationNumber, permitNumber: licence.number, reason: '报关单撤销' };
        const released = await world.customs.submit<VerificationRecord>('verifications', 'Release', release);
        expect(released.release?.reason).to.equal('报关单撤销');
        const again = await world.customs.submit<VerificationRecord>('verifications', 'Release', release);
        expect(again.release).to.deep.equal(released.release);
        const after = await licenceNow(licence);
        expect(after.status).to.equal('ACTIVE');
        expect(after.permit?.goods[0]?.drawn).to.equal(0);
        expect(after.permit?.usesCount).to.equal(0);
    });

    it('refuses to release a rejected verification', async () => {
        const licence = await issue();
        const rejected = await verify(licence, { holder: world.otherUscc });
        await world.unchanged(() => expectRefusal(world.customs.submit('verifications', 'Release', {
            declarationNumber: rejected.declarationNumber, permitNumber: licence.number, reason: 'cancelled',
        }), 'FAILED_PRECONDITION', 'verdict'));
    });

    it('rejects a revoked licence with the reason REVOKED', async () => {
        const licence = await issue();
        await world.commerce.submit('documents', 'Revoke', { type: 'LICENCE', number: licence.number, reason: 'withdrawn' });
        const verdict = await verify(licence);
        expect(verdict.reasons.map((reason) => reason.code)).to.deep.equal(['REVOKED']);
    });

    it('rejects a licence declared after it expired with the reason EXPIRED', async () => {
        const licence = await issue({ validTo: isoIn(2000) });
        const verdict = await verify(licence, { declaredAt: isoIn(60_000) });
        expect(verdict.reasons.map((reason) => reason.code)).to.deep.equal(['EXPIRED']);
    });

    it('rejects a licence declared before it became valid with the reason NOT_YET_VALID', async () => {
        const licence = await issue({ validFrom: isoIn(10 * DAY), validTo: isoIn(40 * DAY) });
        const verdict = await verify(licence);
        expect(verdict.reasons.map((reason) => reason.code)).to.deep.equal(['NOT_YET_VALID']);
    });

    it('reports every reason that applies at once', async () => {
        const licence = await issue({ direction: 'IMPORT' });
        const verdict = await verify(licence, {
            holder: world.otherUscc, direction: 'EXPORT',
            goods: [{ hsCode: SOYBEANS, quantity: 5, unit: 'TNE' }, { hsCode: STEEL, quantity: 5, unit: 'KGM' }],
        });
        expect(verdict.verdict).to.equal('REJECTED');
        expect(verdict.reasons.map((reason) => reason.code)).to.deep.equal(['HOLDER_MISMATCH', 'DIRECTION_MISMATCH', 'HS_CODE_NOT_COVERED', 'UNIT_MISMATCH']);
        expect(verdict.reasons.find((reason) => reason.code === 'HS_CODE_NOT_COVERED')?.line).to.equal(0);
        expect(verdict.drawdown).to.deep.equal([]);
    });

    it('records a REJECTED verdict with NOT_FOUND for a permit that was never issued', async () => {
        const verdict = await world.customs.submit<VerificationRecord>('verifications', 'Verify', declarationRequest({ permitNumber: 'LIC-NEVER-ISSUED', holder: world.exporterUscc }));
        expect(verdict.verdict).to.equal('REJECTED');
        expect(verdict.reasons.map((reason) => reason.code)).to.deep.equal(['NOT_FOUND']);
    });

    it('verifies a certificate of origin quoted on a declaration', async () => {
        const certificate = await issue({ type: 'ORIGIN_CERT', useLimit: 1 });
        expect((await verify(certificate)).verdict).to.equal('VALID');
        expect((await verify(certificate)).reasons.map((reason) => reason.code)).to.deep.equal(['USES_EXHAUSTED']);
    });

    it('lets only customs verify or release, and changes nothing when another caller tries', async () => {
        const licence = await issue();
        const request = declarationRequest({ permitNumber: licence.number, holder: world.exporterUscc });
        for (const actor of [world.commerce, world.tax, world.exporter, world.auditor]) {
            await world.unchanged(() => expectRefusal(actor.submit('verifications', 'Verify', request), 'FORBIDDEN', 'caller'));
        }
        const verdict = await world.customs.submit<VerificationRecord>('verifications', 'Verify', request);
        await world.unchanged(() => expectRefusal(world.commerce.submit('verifications', 'Release', {
            declarationNumber: verdict.declarationNumber, permitNumber: licence.number, reason: 'x',
        }), 'FORBIDDEN', 'caller'));
    });

    it('refuses a declaration number that is not 18 digits and a declaration dated in the future', async () => {
        const licence = await issue();
        await world.unchanged(() => expectRefusal(world.customs.submit('verifications', 'Verify', declarationRequest({
            permitNumber: licence.number, holder: world.exporterUscc, declarationNumber: '22012026',
        })), 'INVALID_ARGUMENT', 'declarationNumber'));
        await world.unchanged(() => expectRefusal(world.customs.submit('verifications', 'Verify', declarationRequest({
            permitNumber: licence.number, holder: world.exporterUscc, declaredAt: isoIn(DAY),
        })), 'INVALID_ARGUMENT', 'declaredAt'));
    });

    it('lets the declarant read its verifications and the auditor read all of them', async () => {
        const licence = await issue();
        const verdict = await verify(licence);
        const key = { declarationNumber: verdict.declarationNumber, permitNumber: licence.number };
        expect((await world.exporter.evaluate<VerificationRecord>('verifications', 'Get', key)).verdict).to.equal('VALID');
        expect((await world.auditor.evaluate<VerificationRecord>('verifications', 'Get', key)).verdict).to.equal('VALID');
        await expectRefusal(world.otherEnterprise.evaluate('verifications', 'Get', key), 'FORBIDDEN', 'caller');
        const byPermit = await world.commerce.evaluate<Page<VerificationRecord>>('verifications', 'List', { permit: { type: 'LICENCE', number: licence.number } });
        expect(byPermit.records.map((record) => record.declarationNumber)).to.deep.equal([verdict.declarationNumber]);
        const mine = await world.exporter.evaluate<Page<VerificationRecord>>('verifications', 'List', { holder: world.exporterUscc, pageSize: 200 });
        expect(mine.records.some((record) => record.declarationNumber === verdict.declarationNumber)).to.equal(true);
        await expectRefusal(world.otherEnterprise.evaluate('verifications', 'List', { holder: world.exporterUscc }), 'FORBIDDEN', 'holder');
        const byDeclaration = await world.exporter.evaluate<Page<VerificationRecord>>('verifications', 'List', { declarationNumber: verdict.declarationNumber });
        expect(byDeclaration.records.map((record) => record.permit.number)).to.deep.equal([licence.number]);
        const hidden = await world.otherEnterprise.evaluate<Page<VerificationRecord>>('verifications', 'List', { declarationNumber: verdict.declarationNumber });
        expect(hidden.records).to.deep.equal([]);
    });

    it('keeps drawing from the new version after a licence is amended', async () => {
        const licence = await issue({ goods: [{ hsCode: STEEL, quantity: 500, unit: 'TNE' }] });
        await verify(licence, { goods: [{ hsCode: STEEL, quantity: 400, unit: 'TNE' }] });
        const amendment = { ...permitRequest({ holder: world.exporterUscc, number: licence.number, goods: [{ hsCode: STEEL, quantity: 800, unit: 'TNE' }] }), expectedVersion: 1 };
        delete (amendment as Record<string, unknown>).holder;
        await world.commerce.submit('documents', 'Amend', amendment, contentOf(amendment));
        const verdict = await verify(licence, { goods: [{ hsCode: STEEL, quantity: 400, unit: 'TNE' }] });
        expect(verdict.verdict).to.equal('VALID');
        expect(verdict.permit.version).to.equal(2);
        expect(verdict.balance[0]).to.include({ drawn: 800, remaining: 0 });
    });
});
