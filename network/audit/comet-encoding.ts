import { createHash } from 'node:crypto';

/**
 * The few protobuf encodings CometBFT hashes and signs, written out so that an auditor can check
 * headers and commits from their JSON: a block header's hash (the Merkle root of its fields),
 * the data hash of a block's transactions, a validator set's hash, and the canonical vote bytes
 * a validator signs with its ed25519 key (CometBFT v0.38: types/block.go, types/canonical.go,
 * crypto/merkle/hash.go).
 */

const sha256 = (...parts: Uint8Array[]): Buffer => {
    const hash = createHash('sha256');
    for (const part of parts) {
        hash.update(part);
    }
    return hash.digest();
};

function uvarint(value: bigint): Buffer {
    const bytes: number[] = [];
    let rest = BigInt.asUintN(64, value);
    while (rest >= 0x80n) {
        bytes.push(Number(rest & 0x7fn) | 0x80);
        rest >>= 7n;
    }
    bytes.push(Number(rest));
    return Buffer.from(bytes);
}

/** A protobuf message being written field by field; zero values are left out, as proto3 does. */
class Message {
    private readonly parts: Buffer[] = [];

    varint(field: number, value: bigint | number): this {
        if (BigInt(value) !== 0n) {
            this.parts.push(uvarint(BigInt((field << 3) | 0)), uvarint(BigInt(value)));
        }
        return this;
    }

    sfixed64(field: number, value: bigint | number): this {
        if (BigInt(value) !== 0n) {
            const bytes = Buffer.alloc(8);
            bytes.writeBigInt64LE(BigInt(value));
            this.parts.push(uvarint(BigInt((field << 3) | 1)), bytes);
        }
        return this;
    }

    bytes(field: number, value: Uint8Array): this {
        return value.length === 0 ? this : this.embedded(field, value);
    }

    string(field: number, value: string): this {
        return this.bytes(field, Buffer.from(value, 'utf8'));
    }

    /** An embedded message, written even when empty (gogoproto's non-nullable fields). */
    embedded(field: number, value: Uint8Array): this {
        this.parts.push(uvarint(BigInt((field << 3) | 2)), uvarint(BigInt(value.length)), Buffer.from(value));
        return this;
    }

    finish(): Buffer {
        return Buffer.concat(this.parts);
    }
}

/** An RFC 3339 time with up to nine fractional digits, as CometBFT writes it, in seconds and nanoseconds. */
export function parseCometTime(text: string): { seconds: bigint; nanos: number } {
    const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
    if (!match) {
        throw new Error(`${text} is not an RFC 3339 time`);
    }
    const whole = Date.parse(`${match[1]}${match[3]}`);
    if (Number.isNaN(whole)) {
        throw new Error(`${text} is not an RFC 3339 time`);
    }
    return { seconds: BigInt(Math.floor(whole / 1000)), nanos: Number((match[2] ?? '').padEnd(9, '0')) };
}

function timestamp(text: string): Buffer {
    const { seconds, nanos } = parseCometTime(text);
    return new Message().varint(1, seconds).varint(2, nanos).finish();
}

/** The Merkle root CometBFT computes over a list of byte slices (RFC 6962, leaves prefixed 0, inner nodes 1). */
export function merkleRoot(items: readonly Uint8Array[]): Buffer {
    if (items.length === 0) {
        return sha256();
    }
    if (items.length === 1) {
        return sha256(Buffer.from([0]), items[0] as Uint8Array);
    }
    let split = 1;
    while (split * 2 < items.length) {
        split *= 2;
    }
    return sha256(Buffer.from([1]), merkleRoot(items.slice(0, split)), merkleRoot(items.slice(split)));
}

export interface CometBlockId {
    readonly hash: string;
    readonly parts: { readonly total: number; readonly hash: string };
}

export interface CometHeader {
    readonly version: { readonly block: string; readonly app?: string };
    readonly chain_id: string;
    readonly height: string;
    readonly time: string;
    readonly last_block_id: CometBlockId;
    readonly last_commit_hash: string;
    readonly data_hash: string;
    readonly validators_hash: string;
    readonly next_validators_hash: string;
    readonly consensus_hash: string;
    readonly app_hash: string;
    readonly last_results_hash: string;
    readonly evidence_hash: string;
    readonly proposer_address: string;
}

const hex = (value: string): Buffer => Buffer.from(value, 'hex');

function blockId(id: CometBlockId): Buffer {
    const parts = new Message().varint(1, id.parts.total).bytes(2, hex(id.parts.hash)).finish();
    return new Message().bytes(1, hex(id.hash)).embedded(2, parts).finish();
}

/** The hash of a block header: what the block's id, the next header's `last_block_id` and every vote for it name. */
export function headerHash(header: CometHeader): Buffer {
    const wrappedBytes = (value: string): Buffer => new Message().bytes(1, hex(value)).finish();
    return merkleRoot([
        new Message().varint(1, BigInt(header.version.block)).varint(2, BigInt(header.version.app ?? '0')).finish(),
        new Message().string(1, header.chain_id).finish(),
        new Message().varint(1, BigInt(header.height)).finish(),
        timestamp(header.time),
        blockId(header.last_block_id),
        wrappedBytes(header.last_commit_hash),
        wrappedBytes(header.data_hash),
        wrappedBytes(header.validators_hash),
        wrappedBytes(header.next_validators_hash),
        wrappedBytes(header.consensus_hash),
        wrappedBytes(header.app_hash),
        wrappedBytes(header.last_results_hash),
        wrappedBytes(header.evidence_hash),
        wrappedBytes(header.proposer_address),
    ]);
}

/** The data hash of a block's transactions: the Merkle root of their SHA-256 hashes. */
export function dataHash(txs: readonly Uint8Array[]): Buffer {
    return merkleRoot(txs.map((tx) => sha256(tx)));
}

/** The hash of a validator set (ed25519 keys), in the set's order: by power, highest first, then by address. */
export function validatorSetHash(validators: readonly { readonly publicKey: Buffer; readonly power: bigint }[]): Buffer {
    return merkleRoot(validators.map((validator) => new Message()
        .embedded(1, new Message().bytes(1, validator.publicKey).finish())
        .varint(2, validator.power)
        .finish()));
}

/** The bytes a validator signs for its precommit vote for a block (length-delimited CanonicalVote). */
export function precommitSignBytes(chainId: string, height: bigint, round: number, id: CometBlockId | undefined, time: string): Buffer {
    const vote = new Message().varint(1, 2 /* SIGNED_MSG_TYPE_PRECOMMIT */).sfixed64(2, height).sfixed64(3, round);
    if (id && id.hash !== '') {
        const parts = new Message().varint(1, id.parts.total).bytes(2, hex(id.parts.hash)).finish();
        vote.embedded(4, new Message().bytes(1, hex(id.hash)).embedded(2, parts).finish());
    }
    const body = vote.embedded(5, timestamp(time)).string(6, chainId).finish();
    return Buffer.concat([uvarint(BigInt(body.length)), body]);
}
