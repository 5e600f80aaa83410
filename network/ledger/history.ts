/** A block as stored by a node, with the hashes that chain it. */
export interface StoredBlock {
    readonly number: number;
    readonly previousHash: Buffer;
    readonly dataHash: Buffer;
    readonly headerHash: Buffer;
    /**
     * The block's data as stored: exactly the bytes `dataHash` covers, as text when they are
     * UTF-8 (its UTF-8 encoding is those bytes), else the bytes themselves.
     */
    readonly data: Buffer | string;
}

/** A key of the world state as the auditor compares it: base64 value and the version that wrote it. */
export type StoredStateEntry = { readonly value: string; readonly version: { readonly blockNumber: number; readonly txIndex: number } };

/**
 * What an auditor reads to verify a ledger from its first block: the stored blocks and the live
 * world state, whichever backend (the embedded ledger's database, a network node's) holds them.
 */
export interface LedgerHistory {
    lastBlock(): Promise<StoredBlock | undefined>;
    /** Stored blocks from a number on, in order, at most `limit`. */
    blocks(fromNumber: number, limit: number): Promise<StoredBlock[]>;
    /** The stored world state in key order (`namespace \u0001 key`), a page at a time. */
    statePages(size?: number): AsyncGenerator<[string, StoredStateEntry][]>;
}
