import type { Context } from 'fabric-contract-api';
import { invalidArgument } from '../common/errors';
import type { Fields } from '../common/fields';
import { transientSha256 } from '../common/transient';
import {
    CODE_RULE, DIRECTIONS, type DocumentType, HS_CODE_RULE, PERMIT_TYPES, UNIT_RULE,
} from '../common/vocabulary';
import type { PermitTerms } from './records';

/** The largest quantity a goods line may carry, so that 105 % of it is still exact. */
export const MAX_QUANTITY = 1_000_000_000_000;
export const MAX_USES = 12;
export const MAX_CONTENT_BYTES = 1024 * 1024;

export interface DocumentTerms {
    readonly validFrom: string;
    readonly validTo: string;
    readonly summary: Record<string, string>;
    readonly permit?: PermitTerms;
}

/** Reads the terms an issuer sets (on issue and on amendment) and checks them against each other. */
export function readTerms(fields: Fields, type: DocumentType, now: string, direction?: PermitTerms['direction']): DocumentTerms {
    const validFrom = fields.timestamp('validFrom');
    const validTo = fields.timestamp('validTo');
    if (validTo <= validFrom) {
        throw invalidArgument('validTo', 'must be after validFrom');
    }
    if (validTo <= now) {
        throw invalidArgument('validTo', 'must be after the transaction time; the document would be born expired');
    }
    const summary = fields.stringMap('summary', { maxEntries: 20, maxValueLength: 256 });
    const isPermit = (PERMIT_TYPES as readonly string[]).includes(type);
    if (!isPermit) {
        if (fields.has('permit')) {
            throw invalidArgument('permit', `is only for ${PERMIT_TYPES.join(', ')}`);
        }
        fields.optionalObject('permit');
        return { validFrom, validTo, summary };
    }
    const permitFields = fields.object('permit');
    const permitDirection = permitFields.oneOf('direction', DIRECTIONS);
    if (direction !== undefined && permitDirection !== direction) {
        throw invalidArgument('permit.direction', `cannot change on amendment (it is ${direction})`);
    }
    const goods = permitFields.array('goods', { minItems: 1, maxItems: 50 }, (line) => ({
        hsCode: line.string('hsCode', HS_CODE_RULE),
        quantity: line.integer('quantity', { min: 1, max: MAX_QUANTITY }),
        unit: line.string('unit', UNIT_RULE),
        drawn: 0,
    }));
    const seen = new Set<string>();
    goods.forEach((line, index) => {
        if (seen.has(line.hsCode)) {
            throw invalidArgument(`permit.goods[${index}].hsCode`, `${line.hsCode} appears on more than one goods line`);
        }
        seen.add(line.hsCode);
    });
    const useLimit = permitFields.integer('useLimit', { min: 1, max: MAX_USES });
    const bulk = permitFields.boolean('bulk', false);
    permitFields.done();
    return { validFrom, validTo, summary, permit: { direction: permitDirection, goods, useLimit, usesCount: 0, bulk } };
}

/**
 * The confidential content, passed as transient data so that it never reaches a block. Only its
 * length and digest are looked at: a host that executes without it passes a withheld stand-in.
 */
export function readContent(ctx: Context): { content: Uint8Array; contentHash: string } {
    const content = ctx.stub.getTransient().get('content');
    if (!content || content.length === 0) {
        throw invalidArgument('transient.content', 'is required: the document content goes in the transient field "content"');
    }
    if (content.length > MAX_CONTENT_BYTES) {
        throw invalidArgument('transient.content', `must be at most ${MAX_CONTENT_BYTES} bytes`);
    }
    return { content, contentHash: transientSha256(content) };
}
