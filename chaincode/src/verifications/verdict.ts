import type { DocumentRecord, GoodsLine } from '../documents/records';
import type { Direction, PermitType } from '../common/vocabulary';

/** Every reason customs may reject a permit quoted on a declaration. */
export const REASON_CODES = [
    'NOT_FOUND',
    'NOT_YET_VALID',
    'EXPIRED',
    'REVOKED',
    'HOLDER_MISMATCH',
    'DIRECTION_MISMATCH',
    'HS_CODE_NOT_COVERED',
    'UNIT_MISMATCH',
    'QUANTITY_EXCEEDED',
    'USES_EXHAUSTED',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export interface Reason {
    readonly code: ReasonCode;
    readonly detail: string;
    /** Index of the declaration's goods line the reason is about, when it is about one. */
    readonly line?: number;
}

export interface DeclaredLine {
    readonly hsCode: string;
    readonly quantity: number;
    readonly unit: string;
}

export interface Declaration {
    readonly declarationNumber: string;
    readonly permitType: PermitType;
    readonly permitNumber: string;
    readonly holder: string;
    readonly direction: Direction;
    readonly goods: DeclaredLine[];
    readonly declaredAt: string;
    readonly port: string;
}

export interface Drawdown {
    readonly hsCode: string;
    readonly quantity: number;
    readonly unit: string;
}

export interface Judgement {
    readonly reasons: Reason[];
    /** What a valid verification draws from the permit, one entry per HS code. */
    readonly drawdown: Drawdown[];
}

/** Bulk cargo may exceed the licensed quantity by up to 5 % (whole base units, rounded down). */
export function allowance(line: GoodsLine, bulk: boolean): number {
    if (!bulk) {
        return line.quantity;
    }
    return Number((BigInt(line.quantity) * 105n) / 100n);
}

/**
 * Judges a declaration against the permit it quotes, collecting every reason that applies
 * rather than stopping at the first, so that the trader learns everything at once.
 */
export function judge(permit: DocumentRecord | undefined, declaration: Declaration): Judgement {
    if (!permit || !permit.permit) {
        return {
            reasons: [{ code: 'NOT_FOUND', detail: `${declaration.permitType} ${declaration.permitNumber} is not on the ledger` }],
            drawdown: [],
        };
    }
    const terms = permit.permit;
    const reasons: Reason[] = [];
    if (declaration.declaredAt < permit.validFrom) {
        reasons.push({ code: 'NOT_YET_VALID', detail: `valid from ${permit.validFrom}; declared at ${declaration.declaredAt}` });
    }
    if (declaration.declaredAt > permit.validTo) {
        reasons.push({ code: 'EXPIRED', detail: `valid to ${permit.validTo}; declared at ${declaration.declaredAt}` });
    }
    if (permit.status === 'REVOKED') {
        reasons.push({ code: 'REVOKED', detail: `revoked at ${permit.revocation?.at ?? permit.updatedAt}: ${permit.revocation?.reason ?? ''}`.trim() });
    }
    if (permit.holder !== declaration.holder) {
        reasons.push({ code: 'HOLDER_MISMATCH', detail: `the permit is held by ${permit.holder}, not ${declaration.holder}` });
    }
    if (terms.direction !== declaration.direction) {
        reasons.push({ code: 'DIRECTION_MISMATCH', detail: `the permit is for ${terms.direction}, the declaration is ${declaration.direction}` });
    }
    if (terms.usesCount >= terms.useLimit) {
        reasons.push({ code: 'USES_EXHAUSTED', detail: `all ${terms.useLimit} uses are spent` });
    }

    const drawdown = new Map<string, Drawdown & { firstLine: number }>();
    declaration.goods.forEach((declared, index) => {
        const licensed = terms.goods.find((line) => line.hsCode === declared.hsCode);
        if (!licensed) {
            reasons.push({ code: 'HS_CODE_NOT_COVERED', line: index, detail: `HS code ${declared.hsCode} is not on the permit` });
            return;
        }
        if (licensed.unit !== declared.unit) {
            reasons.push({ code: 'UNIT_MISMATCH', line: index, detail: `HS code ${declared.hsCode} is licensed in ${licensed.unit}, declared in ${declared.unit}` });
            return;
        }
        const previous = drawdown.get(declared.hsCode);
        drawdown.set(declared.hsCode, {
            hsCode: declared.hsCode, unit: declared.unit, firstLine: previous?.firstLine ?? index,
            quantity: (previous?.quantity ?? 0) + declared.quantity,
        });
    });
    for (const wanted of drawdown.values()) {
        const licensed = terms.goods.find((line) => line.hsCode === wanted.hsCode) as GoodsLine;
        const remaining = allowance(licensed, terms.bulk) - licensed.drawn;
        if (wanted.quantity > remaining) {
            reasons.push({
                code: 'QUANTITY_EXCEEDED', line: wanted.firstLine,
                detail: `HS code ${wanted.hsCode}: ${wanted.quantity} ${wanted.unit} declared, ${Math.max(remaining, 0)} ${wanted.unit} remain${terms.bulk ? ' including the 5 % bulk allowance' : ''}`,
            });
        }
    }
    const ordered = [...drawdown.values()]
        .sort((left, right) => left.firstLine - right.firstLine)
        .map(({ hsCode, quantity, unit }) => ({ hsCode, quantity, unit }));
    return { reasons: reasons.sort(byReasonOrder), drawdown: reasons.length === 0 ? ordered : [] };
}

function byReasonOrder(left: Reason, right: Reason): number {
    const order = REASON_CODES.indexOf(left.code) - REASON_CODES.indexOf(right.code);
    return order !== 0 ? order : (left.line ?? -1) - (right.line ?? -1);
}
