import { createHash } from 'node:crypto';
import { canonicalJson } from '@counterfoil/chaincode/dist/common/canonical-json';

/** A state version, as in Fabric: the block and the transaction within it that wrote the key. */
export interface Version {
    readonly blockNumber: number;
    readonly txIndex: number;
}

export interface KeyRead {
    readonly namespace: string;
    readonly key: string;
    /** null when the key did not exist. */
    readonly version: Version | null;
}

export interface RangeRead {
    readonly namespace: string;
    readonly startKey: string;
    readonly endKey: string;
    /** True when the transaction read the range to its end, so a new key in it is a phantom. */
    readonly exhausted: boolean;
    readonly results: { readonly key: string; readonly version: Version }[];
}

export interface KeyWrite {
    readonly namespace: string;
    readonly key: string;
    /** Base64 value; absent for a delete. */
    readonly value?: string;
    readonly isDelete: boolean;
}

export interface MetadataWrite {
    readonly namespace: string;
    readonly key: string;
    /** Base64 of the serialized key-level endorsement policy. */
    readonly validationParameter: string;
}

export interface ReadWriteSet {
    readonly reads: KeyRead[];
    readonly rangeReads: RangeRead[];
    readonly writes: KeyWrite[];
    readonly metadataWrites: MetadataWrite[];
}

export const VALIDATION_CODES = [
    'VALID', 'MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT', 'DUPLICATE_TXID',
    // Order-then-execute (a CometBFT network): why a transaction ordered into a block changed nothing.
    /** The chaincode refused the call when the block executed it (the response's message says why). */
    'CHAINCODE_REFUSED',
    /** The creator's certificate is not a member's of its organisation at the proposal's time, or the signature does not match. */
    'BAD_CREATOR_SIGNATURE',
    /** The proposal's timestamp is further from the block's time than the network's tolerance. */
    'TIMESTAMP_OUT_OF_RANGE',
    /** The proposal names another channel or chaincode, or its transient data does not match its hashes. */
    'BAD_PROPOSAL',
] as const;
export type ValidationCode = (typeof VALIDATION_CODES)[number];

export interface Creator {
    readonly mspId: string;
    readonly certificate: string;
}

/** What the client asked for and signed. */
export interface Proposal {
    readonly channel: string;
    readonly chaincode: string;
    readonly contract: string;
    readonly transaction: string;
    readonly arguments: string[];
    /** SHA-256 of each transient value: the values themselves never reach a block. */
    readonly transientHashes: Record<string, string>;
    /**
     * The length of each transient value, when there are any: with the hashes, what a party that
     * does not hold the values executes the transaction with.
     */
    readonly transientSizes?: Record<string, number>;
    readonly creator: Creator;
    readonly nonce: string;
    readonly timestamp: string;
}

export interface BlockTransaction {
    readonly transactionId: string;
    readonly proposal: Proposal;
    /** Base64 ECDSA signature of the creator over SHA-256 of the canonical proposal. */
    readonly signature: string;
    /** The chaincode's answer; `message` when it refused (CHAINCODE_REFUSED). */
    readonly response: { readonly status: number; readonly payload: string; readonly message?: string };
    readonly readWriteSet: ReadWriteSet;
    readonly event?: { readonly name: string; readonly payload: string };
    readonly validationCode: ValidationCode;
}

export interface ChannelConfig {
    readonly channel: string;
    readonly chaincode: string;
    readonly organisations: { readonly mspId: string; readonly rootCertificate: string }[];
    readonly collections: { readonly name: string; readonly members: string[] }[];
    /** How a network orders blocks; absent on the embedded ledger, whose one process orders them. */
    readonly consensus?: ConsensusConfig;
}

/** What every node of a CometBFT network must agree on to execute a block alike. */
export interface ConsensusConfig {
    readonly engine: 'cometbft';
    readonly chainId: string;
    /** How far a proposal's timestamp may lie from its block's time, either way. */
    readonly timestampToleranceMs: number;
    /** The largest transaction a node accepts. */
    readonly maxTransactionBytes: number;
}

export interface BlockHeader {
    readonly number: number;
    /** Hex SHA-256 of the previous block's header; '' for block 0. */
    readonly previousHash: string;
    /** Hex SHA-256 of the block's data. */
    readonly dataHash: string;
}

/** Block 0 carries the channel configuration; every later block carries transactions. */
export type BlockData =
    | { readonly kind: 'config'; readonly config: ChannelConfig }
    | {
        readonly kind: 'transactions';
        readonly transactions: BlockTransaction[];
        /** On a network: the CometBFT block this one was executed from, its height and consensus time. */
        readonly consensus?: { readonly height: number; readonly time: string };
    };

export interface Block {
    readonly header: BlockHeader;
    readonly hash: string;
    readonly data: BlockData;
}

export function sha256Hex(bytes: Uint8Array | string): string {
    return createHash('sha256').update(bytes).digest('hex');
}

export function encodeData(data: BlockData): Buffer {
    return Buffer.from(canonicalJson(data), 'utf8');
}

export function headerHash(header: BlockHeader): string {
    return sha256Hex(canonicalJson(header));
}

export function makeBlock(number: number, previousHash: string, data: BlockData): { block: Block; bytes: Buffer } {
    const bytes = encodeData(data);
    const header: BlockHeader = { number, previousHash, dataHash: sha256Hex(bytes) };
    return { block: { header, hash: headerHash(header), data }, bytes };
}

export function proposalDigest(proposal: Proposal): Buffer {
    return createHash('sha256').update(canonicalJson(proposal)).digest();
}

/** Fabric derives a transaction id from the nonce and the creator, so a client cannot choose it freely. */
export function transactionIdOf(nonce: string, creator: Creator): string {
    return sha256Hex(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(creator.mspId), Buffer.from(creator.certificate)]));
}

/** How the ledger names a key across namespaces (and a private key across collections): `namespace\u0001key`. */
export function stateId(namespace: string, key: string): string {
    return `${namespace}\u0001${key}`;
}

export function splitStateId(id: string): [string, string] {
    const at = id.indexOf('\u0001');
    return [id.slice(0, at), id.slice(at + 1)];
}

export function compareVersions(left: Version | null | undefined, right: Version | null | undefined): boolean {
    if (!left || !right) {
        return !left && !right;
    }
    return left.blockNumber === right.blockNumber && left.txIndex === right.txIndex;
}
