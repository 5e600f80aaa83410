import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Timestamp } from 'cosmjs-types/google/protobuf/timestamp';
import { Block } from 'cosmjs-types/tendermint/types/block';
import { type BlockID, BlockMeta, Commit, Part } from 'cosmjs-types/tendermint/types/types';
import type { CometBlockId, CometHeader } from './comet-encoding';
import type { CometCommit, CometGenesis, ConsensusSource } from './consensus';

/**
 * A copy of a node's CometBFT home (its `config/genesis.json` and `data/blockstore.db`) as an
 * auditor's source: the blocks, their parts and commits as the node stored them, read without
 * the node or its software. Copy the folder while the node is stopped (or from a backup): a
 * running cometbft holds the store's lock.
 */
export async function blockStoreSource(home: string): Promise<ConsensusSource & { close(): Promise<void> }> {
    const genesis = JSON.parse(await readFile(join(home, 'config', 'genesis.json'), 'utf8')) as CometGenesis;
    const db = new ClassicLevel<string, Buffer>(join(home, 'data', 'blockstore.db'), { keyEncoding: 'utf8', valueEncoding: 'buffer', createIfMissing: false });
    try {
        await db.open();
    } catch (error) {
        throw new Error(`${join(home, 'data', 'blockstore.db')} is not a block store that can be opened (is its cometbft still running?): ${(error as Error).message}`, { cause: error });
    }
    const read = async (key: string): Promise<Buffer> => {
        const value = await db.get(key);
        if (value === undefined) {
            throw new Error(`the block store has no ${key}`);
        }
        return value;
    };
    return {
        genesis: async () => genesis,
        latestHeight: async () => storeHeight(await read('blockStore')),
        async block(height) {
            const meta = BlockMeta.decode(await read(`H:${height}`));
            const parts: Buffer[] = [];
            for (let index = 0; index < meta.blockId.partSetHeader.total; index++) {
                parts.push(Buffer.from(Part.decode(await read(`P:${height}:${index}`)).bytes));
            }
            const block = Block.decode(Buffer.concat(parts));
            const header = block.header;
            return {
                header: {
                    version: { block: String(header.version.block), app: String(header.version.app) },
                    chain_id: header.chainId, height: String(header.height), time: rfc3339(header.time), last_block_id: blockId(header.lastBlockId),
                    last_commit_hash: hex(header.lastCommitHash), data_hash: hex(header.dataHash), validators_hash: hex(header.validatorsHash),
                    next_validators_hash: hex(header.nextValidatorsHash), consensus_hash: hex(header.consensusHash), app_hash: hex(header.appHash),
                    last_results_hash: hex(header.lastResultsHash), evidence_hash: hex(header.evidenceHash), proposer_address: hex(header.proposerAddress),
                } satisfies CometHeader,
                txs: block.data.txs.map((tx) => Buffer.from(tx)),
            };
        },
        async commit(height) {
            // The commit for a block is stored with the block after it; the latest block's, as this node saw it.
            const bytes = await db.get(`C:${height}`) ?? await read(`SC:${height}`);
            const commit = Commit.decode(bytes);
            return {
                height: String(commit.height), round: commit.round, block_id: blockId(commit.blockId),
                signatures: commit.signatures.map((signature) => ({
                    block_id_flag: signature.blockIdFlag, validator_address: hex(signature.validatorAddress), timestamp: rfc3339(signature.timestamp),
                    signature: signature.signature.length > 0 ? Buffer.from(signature.signature).toString('base64') : null,
                })),
            } satisfies CometCommit;
        },
        close: () => db.close(),
    };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();

function blockId(id: BlockID): CometBlockId {
    return { hash: hex(id.hash), parts: { total: id.partSetHeader.total, hash: hex(id.partSetHeader.hash) } };
}

/** A protobuf time as CometBFT writes it in JSON: RFC 3339, with the nanoseconds it has. */
function rfc3339(time: Timestamp): string {
    const whole = new Date(Number(time.seconds) * 1000).toISOString().slice(0, 19);
    const fraction = String(time.nanos).padStart(9, '0').replace(/0+$/, '');
    return `${whole}${fraction ? `.${fraction}` : ''}Z`;
}

/** The height in the store's own record of its range (`blockStore`: base, height as varints). */
function storeHeight(bytes: Buffer): number {
    let position = 0;
    let height = 0;
    while (position < bytes.length) {
        const tag = bytes[position++] as number;
        let value = 0;
        let multiplier = 1;
        for (;;) {
            const byte = bytes[position++] as number;
            value += (byte & 0x7f) * multiplier;
            multiplier *= 128;
            if ((byte & 0x80) === 0) {
                break;
            }
        }
        if (tag === 0x10) {
            height = value;
        }
    }
    return height;
}
