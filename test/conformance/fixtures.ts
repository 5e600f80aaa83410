import { usccCheckCharacter } from '@counterfoil/chaincode';

const run = Date.now().toString(36).toUpperCase();
let sequence = 0;

/** A number unique within the test run, for document numbers, message ids and case ids. */
export function unique(prefix: string): string {
    return `${prefix}-${run}-${++sequence}`;
}

/** A valid Unified Social Credit Code (GB 32100) for a made-up enterprise. */
export function makeUscc(seed: number): string {
    const body = `91310000${String(seed).padStart(9, '0')}`;
    return body + usccCheckCharacter(body);
}

let declarations = 0;
/** An 18-digit customs declaration number: port, year, then a serial. */
export function declarationNumber(port = '2201'): string {
    const serial = `${Date.now() % 1_000_000}${String(++declarations).padStart(4, '0')}`.padStart(10, '0').slice(-10);
    return `${port}2026${serial}`;
}

export const HOUR = 3600 * 1000;
export const DAY = 24 * HOUR;

export function isoIn(milliseconds: number): string {
    return new Date(Date.now() + milliseconds).toISOString();
}

export interface LicenceOptions {
    readonly number?: string;
    readonly holder: string;
    readonly direction?: 'IMPORT' | 'EXPORT';
    readonly goods?: { hsCode: string; quantity: number; unit: string }[];
    readonly useLimit?: number;
    readonly bulk?: boolean;
    readonly validFrom?: string;
    readonly validTo?: string;
    readonly type?: 'LICENCE' | 'ORIGIN_CERT' | 'INSPECTION_CERT';
}

export const STEEL = '7208510000';
export const SOYBEANS = '1201900000';
export const COPPER_ORE = '2603000010';

export function permitRequest(options: LicenceOptions): Record<string, unknown> {
    return {
        type: options.type ?? 'LICENCE',
        number: options.number ?? unique(options.type === 'ORIGIN_CERT' ? 'CO' : 'LIC'),
        holder: options.holder,
        validFrom: options.validFrom ?? isoIn(-DAY),
        validTo: options.validTo ?? isoIn(180 * DAY),
        summary: { title: '钢材出口许可证', holderName: '上海远洋贸易有限公司' },
        permit: {
            direction: options.direction ?? 'EXPORT',
            goods: options.goods ?? [{ hsCode: STEEL, quantity: 1000, unit: 'TNE' }],
            useLimit: options.useLimit ?? 12,
            bulk: options.bulk ?? false,
        },
    };
}

export function contentOf(request: Record<string, unknown>): Record<string, Uint8Array> {
    return { content: Buffer.from(JSON.stringify({ confidential: true, request }), 'utf8') };
}

export interface DeclarationOptions {
    readonly declarationNumber?: string;
    readonly permitType?: string;
    readonly permitNumber: string;
    readonly holder: string;
    readonly direction?: 'IMPORT' | 'EXPORT';
    readonly goods?: { hsCode: string; quantity: number; unit: string }[];
    readonly declaredAt?: string;
    readonly port?: string;
}

export function declarationRequest(options: DeclarationOptions): Record<string, unknown> {
    return {
        declarationNumber: options.declarationNumber ?? declarationNumber(options.port),
        permit: { type: options.permitType ?? 'LICENCE', number: options.permitNumber },
        holder: options.holder,
        direction: options.direction ?? 'EXPORT',
        goods: options.goods ?? [{ hsCode: STEEL, quantity: 100, unit: 'TNE' }],
        declaredAt: options.declaredAt ?? isoIn(-60_000),
        port: options.port ?? '2201',
    };
}
