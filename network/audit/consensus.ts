import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { GenesisAppState } from '../cometbft/application';
import { executeBlock } from '../cometbft/execution';
import { cometRpc } from '../cometbft/rpc';
import { ProposalRules } from '../cometbft/transactions';
import type { ChaincodeRuntime } from '../execution/execute';
import type { LedgerHistory } from '../ledger';
import { makeBlock } from '../storage/blocks';
import { type CometBlockId, type CometHeader, dataHash, headerHash, parseCometTime, precommitSignBytes, validatorSetHash } from './comet-encoding';
import { ReplayedWorldState } from './memory-state';

/** Something wrong at a CometBFT height (and, where it concerns one, a Counterfoil block). */
export interface ConsensusFinding {
    readonly height: number;
    readonly blockNumber?: number;
    readonly transactionId?: string;
    readonly problem: string;
}

export interface CometGenesis {
    readonly chain_id: string;
    readonly initial_height: string;
    readonly validators: readonly { readonly address: string; readonly pub_key: { readonly type: string; readonly value: string }; readonly power: string; readonly name: string }[];
    readonly app_state: GenesisAppState;
}

export interface CometCommit {
    readonly height: string;
    readonly round: number;
    readonly block_id: CometBlockId;
    readonly signatures: readonly { readonly block_id_flag: number; readonly validator_address: string; readonly timestamp: string; readonly signature: string | null }[];
}

/** Where an auditor reads the consensus chain: a node's CometBFT RPC, or a copy of what it served. */
export interface ConsensusSource {
    genesis(): Promise<CometGenesis>;
    /** The last height whose block and commit can be read. */
    latestHeight(): Promise<number>;
    block(height: number): Promise<{ readonly header: CometHeader; readonly txs: readonly Uint8Array[] }>;
    /** The commit (the validators' precommit signatures) for the block at this height. */
    commit(height: number): Promise<CometCommit>;
}

/** A node's CometBFT RPC as the auditor's source: genesis, blocks and commits as the node serves them. */
export function rpcConsensusSource(url: string): ConsensusSource {
    return {
        genesis: async () => (await cometRpc<{ genesis: CometGenesis }>(url, 'genesis', 30_000)).genesis,
        latestHeight: async () => Number((await cometRpc<{ sync_info: { latest_block_height: string } }>(url, 'status')).sync_info.latest_block_height),
        block: async (height) => {
            const result = await cometRpc<{ block: { header: CometHeader; data: { txs: string[] | null } } }>(url, `block?height=${height}`, 30_000);
            return { header: result.block.header, txs: (result.block.data.txs ?? []).map((tx) => Buffer.from(tx, 'base64')) };
        },
        commit: async (height) => (await cometRpc<{ signed_header: { commit: CometCommit } }>(url, `commit?height=${height}`, 30_000)).signed_header.commit,
    };
}

export interface ConsensusReport {
    readonly engine: 'cometbft';
    readonly chainId: string;
    /** Heights checked, from the first to `lastHeight`. */
    readonly heights: number;
    readonly lastHeight: number;
    readonly validators: readonly { readonly name: string; readonly address: string; readonly power: number }[];
    /** Commits whose signatures carried more than two thirds of the genesis validators' power. */
    readonly commitsVerified: number;
    readonly signaturesVerified: number;
    /** Counterfoil blocks made again by executing the chain's transactions from empty state. */
    readonly blocksExecuted: number;
    readonly transactionsExecuted: number;
    /** App hashes recomputed and found equal to what the next header commits to. */
    readonly appHashesVerified: number;
    /** The app hash after the last height checked: the last Counterfoil block's hash. */
    readonly finalAppHash: string;
    /** The number of the last Counterfoil block the chain executes to. */
    readonly lastBlock: number;
    readonly problems: readonly ConsensusFinding[];
    /** The world state the execution rebuilt (its `entries()` to compare with a node's). */
    readonly state: ReplayedWorldState;
}

export type ConsensusOptions = Readonly<{
    /** The node's stored blocks, compared block by block with the ones executed again. */
    store?: LedgerHistory;
    chaincode: ChaincodeRuntime;
    /** The last height to check (the latest with a commit when left out). */
    toHeight?: number;
    onProgress?: (progress: { height: number; lastHeight: number; transactions: number }) => void;
}>;

const MAX_FINDINGS = 1000;

/**
 * Checks the consensus chain from genesis, trusting only the genesis file: for every height, the
 * header chain (each header names the previous block's id), the data hash of its transactions,
 * the validator set (the genesis set, as it never changes here), and the commit — ed25519
 * signatures over CometBFT's canonical precommit bytes by validators holding more than two
 * thirds of the voting power. Then it executes every transaction again through the chaincode
 * from empty state (the proposal rules, then the contract), makes each Counterfoil block again
 * and compares its hash with the app hash the next header commits to, and with the block the
 * node stores. A block the validators did not agree on, or a node's store that differs from
 * what the chain executes to, is named with its height and block.
 */
export async function verifyConsensus(source: ConsensusSource, options: ConsensusOptions): Promise<ConsensusReport> {
    const genesis = await source.genesis();
    const config = genesis.app_state.config;
    const rules = new ProposalRules(config);
    const problems: ConsensusFinding[] = [];
    const found = (finding: ConsensusFinding): void => {
        if (problems.length < MAX_FINDINGS) {
            problems.push(finding);
        }
    };
    const validators = genesisValidators(genesis, found);
    const totalPower = validators.reduce((sum, validator) => sum + validator.power, 0n);
    const setHash = validatorSetHash(validators).toString('hex').toUpperCase();
    const first = Number(genesis.initial_height || '1');
    const latest = await source.latestHeight();
    const last = Math.min(options.toHeight ?? latest, latest);

    const state = new ReplayedWorldState('counterfoil');
    const committedIds = new Set<string>();
    const genesisBlock = makeBlock(0, '', { kind: 'config', config }).block;
    let previous = { number: 0, hash: genesisBlock.hash };
    if (options.store) {
        const [stored] = await options.store.blocks(0, 1);
        if (!stored || stored.headerHash.toString('hex') !== genesisBlock.hash) {
            found({ height: 0, blockNumber: 0, problem: 'the node\'s block 0 is not the configuration the genesis file holds' });
        }
    }
    let appHash = genesisBlock.hash;
    let previousId: string | undefined;
    let commitsVerified = 0;
    let signaturesVerified = 0;
    let blocksExecuted = 0;
    let transactionsExecuted = 0;
    let appHashesVerified = 0;

    for (let height = first; height <= last; height++) {
        const { header, txs } = await source.block(height);
        const id = headerHash(header).toString('hex').toUpperCase();
        if (header.chain_id !== genesis.chain_id || Number(header.height) !== height) {
            found({ height, problem: `the header is for chain ${header.chain_id} at height ${header.height}, not ${genesis.chain_id} at ${height}` });
        }
        if (height > first && header.last_block_id.hash.toUpperCase() !== previousId) {
            found({ height, problem: `the header names block ${header.last_block_id.hash || '(none)'} before it, not ${previousId} (the previous header's hash)` });
        }
        if (header.data_hash.toUpperCase() !== dataHash(txs).toString('hex').toUpperCase()) {
            found({ height, problem: 'the block\'s transactions do not hash to the data hash its header carries' });
        }
        if (header.validators_hash.toUpperCase() !== setHash || header.next_validators_hash.toUpperCase() !== setHash) {
            found({ height, problem: 'the header names a validator set other than the genesis validators' });
        }
        // The app hash in this header is the one after the height before: what the execution made of it.
        if (header.app_hash.toUpperCase() === appHash.toUpperCase()) {
            appHashesVerified++;
        } else {
            found({ height: height - 1, blockNumber: previous.number, problem: `executing the chain to height ${height - 1} gives app hash ${appHash}, but header ${height} commits to ${header.app_hash}` });
        }
        const commit = await source.commit(height);
        const verified = verifyCommit(genesis.chain_id, height, id, commit, validators, totalPower);
        signaturesVerified += verified.signatures;
        if (verified.problem) {
            found({ height, problem: verified.problem });
        } else {
            commitsVerified++;
        }
        previousId = id;

        const { seconds, nanos } = parseCometTime(header.time);
        const time = new Date(Number(seconds) * 1000 + Math.floor(nanos / 1_000_000));
        const outcome = await executeBlock({ rules, chaincode: options.chaincode, state, committed: async (ids) => new Set(ids.filter((one) => committedIds.has(one))) }, {
            height, time, txs, previous,
        });
        if (outcome.made) {
            const { block } = outcome.made;
            blocksExecuted++;
            transactionsExecuted += outcome.commits.length;
            state.apply(block.header.number, outcome.commits);
            for (const transaction of outcome.commits) {
                committedIds.add(transaction.transactionId);
            }
            if (options.store) {
                const [stored] = await options.store.blocks(block.header.number, 1);
                if (!stored) {
                    found({ height, blockNumber: block.header.number, problem: `the node does not store block ${block.header.number}, which height ${height} executes to` });
                } else if (stored.headerHash.toString('hex') !== block.hash || !Buffer.from(stored.data).equals(outcome.made.bytes)) {
                    found({ height, blockNumber: block.header.number, problem: `the node's block ${block.header.number} differs from what the transactions at height ${height} execute to (stored hash ${stored.headerHash.toString('hex').slice(0, 16)}…, executed ${block.hash.slice(0, 16)}…)` });
                }
            }
            previous = { number: block.header.number, hash: block.hash };
        }
        appHash = outcome.appHash;
        options.onProgress?.({ height, lastHeight: last, transactions: transactionsExecuted });
        if (height % 200 === 0) {
            await new Promise((resolve) => setImmediate(resolve));
        }
    }
    if (last < latest) {
        // The app hash after the last height checked is in the header after it.
        const next = (await source.block(last + 1)).header;
        if (next.app_hash.toUpperCase() === appHash.toUpperCase()) {
            appHashesVerified++;
        } else {
            found({ height: last, blockNumber: previous.number, problem: `executing the chain to height ${last} gives app hash ${appHash}, but header ${last + 1} commits to ${next.app_hash}` });
        }
    }
    return {
        engine: 'cometbft', chainId: genesis.chain_id, heights: Math.max(0, last - first + 1), lastHeight: last,
        validators: validators.map((validator) => ({ name: validator.name, address: validator.address, power: Number(validator.power) })),
        commitsVerified, signaturesVerified, blocksExecuted, transactionsExecuted, appHashesVerified, finalAppHash: appHash, lastBlock: previous.number, problems,
        state,
    };
}

interface Validator {
    readonly name: string;
    readonly address: string;
    readonly publicKey: Buffer;
    readonly key: KeyObject;
    readonly power: bigint;
}

/** The genesis validators, in the set's order, each with the address its key derives. */
function genesisValidators(genesis: CometGenesis, found: (finding: ConsensusFinding) => void): Validator[] {
    const validators = genesis.validators.map((entry) => {
        const publicKey = Buffer.from(entry.pub_key.value, 'base64');
        const address = createHash('sha256').update(publicKey).digest().subarray(0, 20).toString('hex').toUpperCase();
        if (entry.pub_key.type !== 'tendermint/PubKeyEd25519' || publicKey.length !== 32) {
            found({ height: 0, problem: `genesis validator ${entry.name} does not have an ed25519 key` });
        }
        if (address !== entry.address.toUpperCase()) {
            found({ height: 0, problem: `genesis validator ${entry.name}'s address ${entry.address} is not the one its key derives (${address})` });
        }
        const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }, format: 'jwk' });
        return { name: entry.name, address, publicKey, key, power: BigInt(entry.power) };
    });
    return validators.sort((left, right) => (left.power === right.power ? Buffer.compare(Buffer.from(left.address, 'hex'), Buffer.from(right.address, 'hex')) : left.power > right.power ? -1 : 1));
}

/** Whether a commit is for this block and signed by more than two thirds of the power; and how many signatures were checked. */
function verifyCommit(chainId: string, height: number, id: string, commit: CometCommit, validators: readonly Validator[], totalPower: bigint): { problem?: string; signatures: number } {
    if (Number(commit.height) !== height || commit.block_id.hash.toUpperCase() !== id) {
        return { problem: `the commit is for block ${commit.block_id.hash} at height ${commit.height}, not block ${id} (the header's hash)`, signatures: 0 };
    }
    let power = 0n;
    let signatures = 0;
    const bad: string[] = [];
    const counted = new Set<string>();
    for (const signature of commit.signatures) {
        if (signature.block_id_flag !== 2 /* BLOCK_ID_FLAG_COMMIT */) {
            continue;
        }
        const validator = validators.find((candidate) => candidate.address === signature.validator_address.toUpperCase());
        if (!validator) {
            bad.push(`a signature from ${signature.validator_address}, which is no genesis validator`);
            continue;
        }
        signatures++;
        const bytes = precommitSignBytes(chainId, BigInt(height), commit.round, commit.block_id, signature.timestamp);
        if (!signature.signature || !verify(null, bytes, validator.key, Buffer.from(signature.signature, 'base64'))) {
            bad.push(`${validator.name}'s signature does not verify`);
            continue;
        }
        if (!counted.has(validator.address)) {
            counted.add(validator.address);
            power += validator.power;
        }
    }
    if (power * 3n <= totalPower * 2n) {
        return {
            problem: `the commit carries valid signatures of ${power} of ${totalPower} voting power, not more than two thirds${bad.length > 0 ? ` (${bad.join('; ')})` : ''}: the validators did not agree on this block`,
            signatures,
        };
    }
    return bad.length > 0 ? { problem: `the commit holds signatures that do not verify: ${bad.join('; ')}`, signatures } : { signatures };
}
