import { createHash } from 'node:crypto';

/**
 * Where a host that executes a transaction without its confidential content puts the content's
 * SHA-256 on the stand-in it passes as the transient value (a Counterfoil network node, an
 * auditor re-executing the chain): the proposal signs both the hash and the length, and the
 * content itself goes only to the members of its collection. On Fabric, transient values are the
 * content itself and carry nothing here.
 */
export const WITHHELD_SHA256: unique symbol = Symbol.for('counterfoil.transient.withheld-sha256') as never;

export type WithheldValue = Uint8Array & { readonly [WITHHELD_SHA256]: string };

/** A stand-in for content of `length` bytes with that SHA-256, for a host that does not hold it. */
export function withheldValue(sha256: string, length: number): WithheldValue {
    return Object.assign(new Uint8Array(length), { [WITHHELD_SHA256]: sha256 });
}

/** The SHA-256 a withheld stand-in carries, or undefined for content itself. */
export function withheldSha256(value: Uint8Array): string | undefined {
    const carried = (value as Partial<WithheldValue>)[WITHHELD_SHA256];
    return typeof carried === 'string' ? carried : undefined;
}

/**
 * The hex SHA-256 of a transient value: computed from the content, or the one a withheld
 * stand-in carries. The chaincode reads confidential content only through its length and this
 * digest (and stores it as private data), so executing it with or without the content comes to
 * the same public state.
 */
export function transientSha256(value: Uint8Array): string {
    return withheldSha256(value) ?? createHash('sha256').update(value).digest('hex');
}
