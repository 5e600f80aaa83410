import { compareVersions, type KeyRead, type RangeRead, type ValidationCode, type Version } from '../storage/blocks';
import { compareKeys } from './composite-keys';

/**
 * The validation rules, in one place, for whoever applies them: the embedded committer when it
 * orders a block, the auditor's replay when it derives every code again. A transaction's reads
 * are stale when a key it read has another version now (MVCC_READ_CONFLICT); a range it read is
 * a phantom when the keys in it, or their versions, are not what it saw (PHANTOM_READ_CONFLICT).
 * Under order-then-execute (a network) reads are always current, so the same rules confirm that
 * a block's valid transactions read the state the block's order gives them.
 */

/** Whether every key read still has the version the transaction saw. */
export function readsAreCurrent(reads: readonly KeyRead[], current: (namespace: string, key: string) => Version | null): boolean {
    return reads.every((read) => compareVersions(read.version, current(read.namespace, read.key)));
}

/** Whether a range read still finds what it found, given the keys now in the range (in key order). */
export function rangeIsCurrent(range: RangeRead, now: readonly (readonly [string, Version])[]): boolean {
    const compared = range.exhausted ? now : now.slice(0, range.results.length);
    if (compared.length !== range.results.length) {
        return false;
    }
    return compared.every(([key, version], index) => {
        const read = range.results[index];
        return read !== undefined && read.key === key && compareVersions(read.version, version);
    });
}

/** Whether a key lies in a range read's bounds (an empty end key: no upper bound). */
export function inRange(range: Pick<RangeRead, 'startKey' | 'endKey'>, key: string): boolean {
    return compareKeys(key, range.startKey) >= 0 && (range.endKey === '' || compareKeys(key, range.endKey) < 0);
}

/** How many keys a range read must see again to judge it: all when it read to the end, else one more than it saw. */
export function rangeLimit(range: RangeRead): number {
    return range.exhausted ? 1_000_000 : range.results.length + 1;
}

/** Codes only execution decides (a network): they change nothing, which is what a replay checks of them. */
export const EXECUTION_CODES: ReadonlySet<ValidationCode> = new Set(['CHAINCODE_REFUSED', 'BAD_CREATOR_SIGNATURE', 'TIMESTAMP_OUT_OF_RANGE', 'BAD_PROPOSAL']);
