import { Context, Info, Transaction } from 'fabric-contract-api';
import { CounterfoilContract } from '../common/contract';
import { callerOf, type Caller, requireAgency, requireWriter } from '../common/caller';
import { canonicalJson } from '../common/canonical';
import { conflict, failedPrecondition, forbidden, invalidArgument, notFound } from '../common/errors';
import { emit } from '../common/events';
import { Fields } from '../common/fields';
import { addSeconds, type Page, pageOfIndex, readPageRequest, readRecord, transactionTime, writeIndex, writeRecord } from '../common/state';
import {
    CODE_RULE, DECLARATION_NUMBER_RULE, DIRECTIONS, DOCUMENT_NUMBER_RULE, HS_CODE_RULE, PERMIT_TYPES, type PermitType, PORT, UNIT_RULE,
} from '../common/vocabulary';
import { documentKey, type DocumentRecord, findDocument, isExhausted, type PermitTerms } from '../documents/records';
import { MAX_QUANTITY } from '../documents/terms';
import { allowance, type Declaration, type Drawdown, judge, type Reason } from './verdict';
import { createHash } from 'node:crypto';

export interface Balance {
    readonly hsCode: string;
    readonly unit: string;
    readonly licensed: number;
    readonly drawn: number;
    /** What may still be drawn, bulk allowance included. */
    readonly remaining: number;
}

export interface VerificationRecord {
    readonly declarationNumber: string;
    readonly permit: { readonly type: PermitType; readonly number: string; readonly version?: number };
    readonly holder: string;
    readonly direction: Declaration['direction'];
    readonly goods: Declaration['goods'];
    readonly declaredAt: string;
    readonly port: string;
    readonly verdict: 'VALID' | 'REJECTED';
    readonly reasons: Reason[];
    readonly drawdown: Drawdown[];
    /** The permit's balance and uses left just after this verification. */
    readonly balance: Balance[];
    readonly usesRemaining: number;
    readonly requestHash: string;
    readonly verifiedAt: string;
    readonly verifiedBy: string;
    readonly transactionId: string;
    readonly release?: { readonly reason: string; readonly at: string; readonly transactionId: string };
}

export const VERIFICATION = 'verification';
const VERIFICATIONS_BY_PERMIT = 'verification~permit';
const VERIFICATIONS_BY_HOLDER = 'verification~holder';
/** How far ahead of the transaction time a declaration may be dated (clock skew between systems). */
const FUTURE_SKEW_SECONDS = 300;

function verificationKey(ctx: Context, declarationNumber: string, permitNumber: string): string {
    return ctx.stub.createCompositeKey(VERIFICATION, [declarationNumber, permitNumber]);
}

function readDeclaration(fields: Fields, now: string): Declaration {
    const declarationNumber = fields.string('declarationNumber', DECLARATION_NUMBER_RULE);
    const permit = fields.object('permit');
    const permitType = permit.oneOf('type', PERMIT_TYPES);
    const permitNumber = permit.string('number', DOCUMENT_NUMBER_RULE);
    permit.done();
    const holder = fields.uscc('holder');
    const direction = fields.oneOf('direction', DIRECTIONS);
    const goods = fields.array('goods', { minItems: 1, maxItems: 50 }, (line) => ({
        hsCode: line.string('hsCode', HS_CODE_RULE),
        quantity: line.integer('quantity', { min: 1, max: MAX_QUANTITY }),
        unit: line.string('unit', UNIT_RULE),
    }));
    const declaredAt = fields.timestamp('declaredAt');
    if (declaredAt > addSeconds(now, FUTURE_SKEW_SECONDS)) {
        throw invalidArgument('declaredAt', 'must not be later than the transaction time');
    }
    const port = fields.string('port', { pattern: PORT, patternRule: 'must be a 4-digit customs port code' });
    return { declarationNumber, permitType, permitNumber, holder, direction, goods, declaredAt, port };
}

/** What a permit has left: per goods line, and uses. */
export function balanceOf(terms: PermitTerms | undefined): { balance: Balance[]; usesRemaining: number } {
    if (!terms) {
        return { balance: [], usesRemaining: 0 };
    }
    return {
        balance: terms.goods.map((line) => ({
            hsCode: line.hsCode, unit: line.unit, licensed: line.quantity, drawn: line.drawn,
            remaining: Math.max(allowance(line, terms.bulk) - line.drawn, 0),
        })),
        usesRemaining: Math.max(terms.useLimit - terms.usesCount, 0),
    };
}

function requireReader(caller: Caller, record: VerificationRecord): void {
    if (caller.kind === 'enterprise' && caller.uscc !== record.holder) {
        throw forbidden('caller', `enterprise ${caller.uscc} is not the declarant of ${record.declarationNumber}`);
    }
}

@Info({ title: 'Verifications', description: 'Customs verifies permits quoted on declarations and draws them down' })
export class VerificationContract extends CounterfoilContract {
    constructor() {
        super('verifications');
    }

    /**
     * Verifies the permit quoted on a declaration. A valid verdict draws the declared quantities
     * and one use from the permit in the same transaction. Repeating the same request returns
     * the first verdict and draws nothing.
     */
    @Transaction()
    async Verify(ctx: Context, request: string): Promise<VerificationRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const agency = requireAgency(caller, 'verify permits', ['CustomsMSP']);
        const now = transactionTime(ctx);
        const fields = Fields.parse(request);
        const declaration = readDeclaration(fields, now);
        fields.done();
        const requestHash = createHash('sha256').update(canonicalJson(declaration)).digest('hex');
        const key = verificationKey(ctx, declaration.declarationNumber, declaration.permitNumber);
        const existing = await readRecord<VerificationRecord>(ctx, key);
        if (existing) {
            if (existing.requestHash === requestHash) {
                return existing;
            }
            throw conflict('declarationNumber', `declaration ${declaration.declarationNumber} already verified permit ${declaration.permitNumber} with different particulars`);
        }

        const permit = await findDocument(ctx, declaration.permitType, declaration.permitNumber);
        const { reasons, drawdown } = judge(permit, declaration);
        let after: DocumentRecord | undefined = permit;
        if (permit?.permit && reasons.length === 0) {
            after = drawDown(permit, permit.permit, drawdown, now, ctx.stub.getTxID());
            await writeRecord(ctx, documentKey(ctx, permit.type, permit.number, permit.version), after);
        }
        const record: VerificationRecord = {
            declarationNumber: declaration.declarationNumber,
            permit: { type: declaration.permitType, number: declaration.permitNumber, version: permit?.version },
            holder: declaration.holder, direction: declaration.direction, goods: declaration.goods,
            declaredAt: declaration.declaredAt, port: declaration.port,
            verdict: reasons.length === 0 ? 'VALID' : 'REJECTED', reasons, drawdown,
            ...balanceOf(after?.permit),
            requestHash, verifiedAt: now, verifiedBy: agency.mspId, transactionId: ctx.stub.getTxID(),
        };
        await writeRecord(ctx, key, record);
        await writeIndex(ctx, VERIFICATIONS_BY_PERMIT, [declaration.permitType, declaration.permitNumber, declaration.declarationNumber]);
        await writeIndex(ctx, VERIFICATIONS_BY_HOLDER, [declaration.holder, declaration.declarationNumber, declaration.permitNumber]);
        // One event per transaction: a drawdown changed the permit too, so the event carries it.
        emit(ctx, record.verdict === 'VALID' ? 'PermitVerified' : 'PermitRejected', after && after !== permit ? { ...record, permitDocument: after } : record);
        return record;
    }

    /** A cancelled declaration gives back what its verification drew, exactly once. */
    @Transaction()
    async Release(ctx: Context, request: string): Promise<VerificationRecord> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        requireAgency(caller, 'release verifications', ['CustomsMSP']);
        const fields = Fields.parse(request);
        const declarationNumber = fields.string('declarationNumber', DECLARATION_NUMBER_RULE);
        const permitNumber = fields.string('permitNumber', DOCUMENT_NUMBER_RULE);
        const reason = fields.string('reason', { maxLength: 500 });
        fields.done();
        const now = transactionTime(ctx);
        const key = verificationKey(ctx, declarationNumber, permitNumber);
        const record = await readRecord<VerificationRecord>(ctx, key);
        if (!record) {
            throw notFound('declarationNumber', `no verification of permit ${permitNumber} on declaration ${declarationNumber}`);
        }
        if (record.release) {
            return record;
        }
        if (record.verdict !== 'VALID') {
            throw failedPrecondition('verdict', 'a rejected verification drew nothing, so there is nothing to release');
        }
        const permit = await findDocument(ctx, record.permit.type, record.permit.number);
        if (!permit?.permit) {
            throw failedPrecondition('permit', `${record.permit.type} ${record.permit.number} is no longer on the ledger`);
        }
        const restored = giveBack(permit, permit.permit, record.drawdown, now, ctx.stub.getTxID());
        await writeRecord(ctx, documentKey(ctx, permit.type, permit.number, permit.version), restored);
        const released: VerificationRecord = {
            ...record, ...balanceOf(restored.permit), release: { reason, at: now, transactionId: ctx.stub.getTxID() },
        };
        await writeRecord(ctx, key, released);
        emit(ctx, 'VerificationReleased', { ...released, permitDocument: restored });
        return released;
    }

    @Transaction(false)
    async Get(ctx: Context, request: string): Promise<VerificationRecord> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const declarationNumber = fields.string('declarationNumber', DECLARATION_NUMBER_RULE);
        const permitNumber = fields.string('permitNumber', DOCUMENT_NUMBER_RULE);
        fields.done();
        const record = await readRecord<VerificationRecord>(ctx, verificationKey(ctx, declarationNumber, permitNumber));
        if (!record) {
            throw notFound('declarationNumber', `no verification of permit ${permitNumber} on declaration ${declarationNumber}`);
        }
        requireReader(caller, record);
        return record;
    }

    /** Verifications of one permit (`permit`), of one declarant (`holder`), or of one declaration (`declarationNumber`). */
    @Transaction(false)
    async List(ctx: Context, request: string): Promise<Page<VerificationRecord>> {
        const caller = callerOf(ctx);
        const fields = Fields.parse(request);
        const declarationNumber = fields.optionalString('declarationNumber', DECLARATION_NUMBER_RULE);
        const permit = fields.optionalObject('permit');
        const permitType = permit?.oneOf('type', PERMIT_TYPES);
        const permitNumber = permit?.string('number', DOCUMENT_NUMBER_RULE);
        permit?.done();
        const holder = fields.has('holder') ? fields.uscc('holder') : (fields.optionalString('holder'), undefined);
        const pageRequest = readPageRequest(fields);
        fields.done();
        if ([permit, holder, declarationNumber].filter((selector) => selector !== undefined).length !== 1) {
            throw invalidArgument('request', 'exactly one of declarationNumber, permit and holder is required');
        }
        if (declarationNumber) {
            const page = await pageOfIndex(ctx, VERIFICATION, [declarationNumber], pageRequest, ([declaration, number]) =>
                readRecord<VerificationRecord>(ctx, verificationKey(ctx, declaration ?? '', number ?? '')));
            return { ...page, records: page.records.filter((record) => caller.kind !== 'enterprise' || record.holder === caller.uscc) };
        }
        if (caller.kind === 'enterprise' && holder !== caller.uscc) {
            throw forbidden('holder', `enterprise ${caller.uscc} may list only its own verifications`);
        }
        if (holder) {
            return pageOfIndex(ctx, VERIFICATIONS_BY_HOLDER, [holder], pageRequest, ([, declaration, number]) =>
                readRecord<VerificationRecord>(ctx, verificationKey(ctx, declaration ?? '', number ?? '')));
        }
        return pageOfIndex(ctx, VERIFICATIONS_BY_PERMIT, [permitType as string, permitNumber as string], pageRequest, ([, number, declaration]) =>
            readRecord<VerificationRecord>(ctx, verificationKey(ctx, declaration ?? '', number ?? '')));
    }
}

function drawDown(permit: DocumentRecord, terms: PermitTerms, drawdown: Drawdown[], now: string, transactionId: string): DocumentRecord {
    const goods = terms.goods.map((line) => {
        const drawn = drawdown.find((entry) => entry.hsCode === line.hsCode)?.quantity ?? 0;
        return { ...line, drawn: line.drawn + drawn };
    });
    const next: PermitTerms = { ...terms, goods, usesCount: terms.usesCount + 1 };
    return { ...permit, permit: next, status: isExhausted(next) ? 'EXHAUSTED' : permit.status, updatedAt: now, transactionId };
}

function giveBack(permit: DocumentRecord, terms: PermitTerms, drawdown: Drawdown[], now: string, transactionId: string): DocumentRecord {
    const goods = terms.goods.map((line) => {
        const drawn = drawdown.find((entry) => entry.hsCode === line.hsCode)?.quantity ?? 0;
        return { ...line, drawn: Math.max(line.drawn - drawn, 0) };
    });
    const next: PermitTerms = { ...terms, goods, usesCount: Math.max(terms.usesCount - 1, 0) };
    const status = permit.status === 'EXHAUSTED' && !isExhausted(next) ? 'ACTIVE' : permit.status;
    return { ...permit, permit: next, status, updatedAt: now, transactionId };
}
