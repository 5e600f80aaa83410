/*
 * Canonical JSON alone, with no dependency: what a process that only hashes records (an
 * auditor's signature workers) loads.
 */

/**
 * Deterministic JSON: object keys sorted at every depth, `undefined` members dropped.
 * Every record written to the ledger and every transaction result goes through here, so that
 * endorsing peers produce byte-identical results.
 */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(sortKeys(value));
}

export function canonicalBytes(value: unknown): Buffer {
    return Buffer.from(canonicalJson(value), 'utf8');
}

function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(sortKeys);
    }
    if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
        const sorted: Record<string, unknown> = {};
        for (const key of Object.keys(value).sort()) {
            const member = (value as Record<string, unknown>)[key];
            if (member !== undefined) {
                sorted[key] = sortKeys(member);
            }
        }
        return sorted;
    }
    return value;
}
