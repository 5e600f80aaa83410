import { X509Certificate } from 'node:crypto';
import { issuedBy, type Member, signedBy, validityProblem } from '../membership/authorities';
import {
    type BlockTransaction, type ChannelConfig, headerHash, proposalDigest, sha256Hex, splitStateId, stateId, transactionIdOf, type ValidationCode, type Version,
} from '../storage/blocks';
import { compareKeys } from '../execution/composite-keys';
import { type BlockVerdicts, ID_DERIVED, SIGNED, SignaturePool } from './signature-pool';
import { EXECUTION_CODES, inRange, rangeIsCurrent, readsAreCurrent } from '../execution/validation';
import type { LedgerHistory, StoredBlock } from '../ledger';
import { parseBlockData } from '../storage/store';

/** Something wrong with a block or one of its transactions, where it is. */
export interface Finding {
    readonly blockNumber: number;
    readonly transactionId?: string;
    readonly problem: string;
}

export interface ReplayProgress {
    /** The last block replayed. */
    readonly blockNumber: number;
    /** Blocks on the ledger when the replay started. */
    readonly height: number;
    readonly transactions: number;
}

/** One write to a key, with who made it and when. */
export interface KeyChange {
    readonly blockNumber: number;
    readonly txIndex: number;
    readonly transactionId: string;
    readonly timestamp: string;
    readonly mspId: string;
    /** The subject of the creator's certificate. */
    readonly creator: string;
    readonly call: string;
    readonly isDelete: boolean;
    /** The value written (utf8), absent for a delete. */
    readonly value?: string;
}

export type ReplayOptions = Readonly<{
    /** The last block to replay (inclusive); the tip when left out. */
    toBlock?: number;
    /** Replays the blocks whose transactions were all proposed by this time (block 0 always). */
    asOf?: Date;
    /** Check each transaction's creator, certificate and signature (default true). */
    signatures?: boolean;
    /** Check the signatures in worker threads, one per core, a page of blocks ahead (default true). */
    parallel?: boolean;
    /** Re-derive each transaction's validation code from the replayed state (default true). */
    validation?: boolean;
    /** Rebuild the world state (default true; always when validation codes are checked). */
    state?: boolean;
    /** Keeps every change to the keys it accepts, for histories. */
    watch?: (namespace: string, key: string) => boolean;
    onProgress?: (progress: ReplayProgress) => void;
    /** Blocks between two progress reports (default 500). */
    progressEvery?: number;
}>;

export interface ReplayResult {
    readonly channel: string;
    readonly chaincode: string;
    /** Blocks replayed (0 to lastBlock). */
    readonly blocks: number;
    readonly lastBlock: number;
    /** Hash of the last block replayed: two auditors with the same value saw the same ledger. */
    readonly lastHash: string;
    /** When the last replayed block's last transaction was proposed (block 0: null). */
    readonly lastTime: string | null;
    readonly transactions: number;
    readonly byCode: Readonly<Record<string, number>>;
    readonly chain: readonly Finding[];
    readonly signaturesChecked: number;
    readonly signatures: readonly Finding[];
    readonly validationChecked: number;
    readonly validation: readonly Finding[];
    /** World state rebuilt from the write sets of valid transactions: `namespace \u0001 key`. */
    readonly state: ReadonlyMap<string, { value: string; version: Version }>;
    readonly changes: ReadonlyMap<string, KeyChange[]>;
    /** Whether the replay reached the ledger's last block. */
    readonly reachedTip: boolean;
}

const PAGE = 200;
/** Transactions replayed between two turns of the event loop. */
const YIELD_EVERY = 500;

/**
 * Replays the embedded ledger from block 0, trusting nothing it has not checked: each block's
 * data hash, header hash and link to the block before; each transaction's creator (a member of
 * an organisation in the channel configuration of block 0, its certificate valid when it
 * proposed), its signature over the proposal, and its id; and each validation code, derived
 * again from the state as replayed (duplicate ids, stale reads, phantom ranges). The world state
 * is rebuilt from the write sets of valid transactions only.
 */
export async function replayLedger(store: LedgerHistory, options: ReplayOptions = {}): Promise<ReplayResult> {
    const checkSignatures = options.signatures ?? true;
    const checkValidation = options.validation ?? true;
    const rebuildState = (options.state ?? true) || checkValidation;
    const every = options.progressEvery ?? 500;
    const height = ((await store.lastBlock())?.number ?? -1) + 1;
    const last = Math.min(options.toBlock ?? height - 1, height - 1);
    const chain: Finding[] = [];
    const signatures: Finding[] = [];
    const validation: Finding[] = [];
    const state = new Map<string, { value: string; version: Version }>();
    const changes = new Map<string, KeyChange[]>();
    const seen = new Set<string>();
    const byCode: Record<string, number> = {};
    const roots = new Map<string, X509Certificate>();
    const certificates = new Map<string, Member | string>();
    let config: ChannelConfig | undefined;
    let expected = 0;
    let previousHash = '';
    let transactions = 0;
    let signaturesChecked = 0;
    let validationChecked = 0;
    let lastTime: string | null = null;
    let stopped = false;
    let lastYield = 0;

    /** `dataHash`: the data's SHA-256 when a worker computed it already. */
    const checkBlock = (block: StoredBlock, dataHash = sha256Hex(block.data)): void => {
        if (block.number !== expected) {
            chain.push({ blockNumber: expected, problem: `block ${expected} is missing; the next stored block is ${block.number}` });
        }
        if (dataHash !== block.dataHash.toString('hex')) {
            chain.push({ blockNumber: block.number, problem: 'the block data does not match its data hash' });
        }
        const header = { number: block.number, previousHash: block.previousHash.toString('hex'), dataHash: block.dataHash.toString('hex') };
        if (headerHash(header) !== block.headerHash.toString('hex')) {
            chain.push({ blockNumber: block.number, problem: 'the block header does not match its hash' });
        }
        if (header.previousHash !== previousHash) {
            chain.push({ blockNumber: block.number, problem: 'the block does not name the hash of the block before it' });
        }
    };

    /** `verdict`: what a worker found (SIGNED, ID_DERIVED bits); checked here when absent. */
    const checkCreator = (blockNumber: number, transaction: BlockTransaction, verdict: number | undefined): string | undefined => {
        signaturesChecked++;
        const { proposal } = transaction;
        const root = roots.get(proposal.creator.mspId);
        // A certificate signs many transactions: whether its root issued it is checked once.
        const cacheKey = `${proposal.creator.mspId}\u0000${proposal.creator.certificate}`;
        let issued = certificates.get(cacheKey);
        if (issued === undefined && root) {
            issued = issuedBy(root, proposal.creator.mspId, proposal.creator.certificate);
            certificates.set(cacheKey, issued);
        }
        const problem = !root || issued === undefined
            ? `the creator's organisation ${proposal.creator.mspId} is not in the channel configuration`
            : typeof issued === 'string'
                ? issued
                : validityProblem(issued, new Date(proposal.timestamp))
                    ?? ((verdict === undefined ? transactionIdOf(proposal.nonce, proposal.creator) === transaction.transactionId : (verdict & ID_DERIVED) !== 0)
                        ? undefined : 'the transaction id is not derived from the proposal\'s nonce and creator')
                    ?? (config && (proposal.channel !== config.channel || proposal.chaincode !== config.chaincode) ? `the proposal names channel ${proposal.channel} and chaincode ${proposal.chaincode}, not this ledger's` : undefined)
                    ?? ((verdict === undefined ? signedBy(issued, proposalDigest(proposal), Buffer.from(transaction.signature, 'base64')) : (verdict & SIGNED) !== 0)
                        ? undefined : 'the creator\'s signature does not match the proposal');
        if (problem && transaction.validationCode !== 'BAD_CREATOR_SIGNATURE') {
            signatures.push({ blockNumber, transactionId: transaction.transactionId, problem });
        }
        return problem;
    };

    /** The validation code the transaction should have, given the state replayed before it. */
    const expectedCode = (transaction: BlockTransaction, consensusTime: string | undefined): ValidationCode => {
        if (seen.has(transaction.transactionId)) {
            return 'DUPLICATE_TXID';
        }
        if (EXECUTION_CODES.has(transaction.validationCode) && config?.consensus) {
            // Decided when the block executed; what a replay can check is that it changed nothing
            // and, for the timestamp, the rule itself.
            const { writes, metadataWrites } = transaction.readWriteSet;
            if (writes.length > 0 || metadataWrites.length > 0) {
                return 'VALID';
            }
            if (transaction.validationCode === 'TIMESTAMP_OUT_OF_RANGE' && consensusTime
                && Math.abs(Date.parse(transaction.proposal.timestamp) - Date.parse(consensusTime)) <= config.consensus.timestampToleranceMs) {
                return 'VALID';
            }
            return transaction.validationCode;
        }
        const { reads, rangeReads } = transaction.readWriteSet;
        if (!readsAreCurrent(reads, (namespace, key) => state.get(stateId(namespace, key))?.version ?? null)) {
            return 'MVCC_READ_CONFLICT';
        }
        for (const range of rangeReads) {
            const now = [...state.entries()]
                .map(([id, entry]) => [...splitStateId(id), entry.version] as const)
                .filter(([namespace, key]) => namespace === range.namespace && inRange(range, key))
                .map(([, key, version]) => [key, version] as const)
                .sort(([left], [right]) => compareKeys(left, right));
            if (!rangeIsCurrent(range, now)) {
                return 'PHANTOM_READ_CONFLICT';
            }
        }
        return 'VALID';
    };

    // Signatures are checked by workers on the machine's cores: the next page is read, and handed
    // to them as soon as it arrives, while this one is replayed.
    const pool = checkSignatures && (options.parallel ?? true) ? new SignaturePool() : undefined;
    const read = async (from: number): Promise<{ page: StoredBlock[]; verdicts?: Map<number, Promise<BlockVerdicts>> }> => {
        const page = from <= last ? await store.blocks(from, Math.min(PAGE, last - from + 1)) : [];
        return { page, verdicts: pool?.verify(page) };
    };
    let reading = read(0);
    try {
        for (let next = 0; next <= last && !stopped;) {
            const { page, verdicts } = await reading;
            if (page.length === 0) {
                break;
            }
            reading = read((page.at(-1) as StoredBlock).number + 1);
            for (const block of page) {
                if (block.number > last) {
                    stopped = true;
                    break;
                }
                let data;
                try {
                    data = parseBlockData(block.data);
                } catch {
                    checkBlock(block);
                    chain.push({ blockNumber: block.number, problem: 'the block data is not readable' });
                    previousHash = block.headerHash.toString('hex');
                    expected = block.number + 1;
                    continue;
                }
                if (data.kind === 'transactions' && options.asOf && data.transactions.some((transaction) => new Date(transaction.proposal.timestamp) > (options.asOf as Date))) {
                    stopped = true;
                    break;
                }
                const found = await verdicts?.get(block.number);
                checkBlock(block, found?.dataHash);
                if (transactions - lastYield >= YIELD_EVERY) {
                    // A replay in the gateway's process lets requests through now and then.
                    lastYield = transactions;
                    await new Promise((resolve) => setImmediate(resolve));
                }
                if (data.kind === 'config') {
                    config = data.config;
                    for (const organisation of data.config.organisations) {
                        roots.set(organisation.mspId, new X509Certificate(organisation.rootCertificate));
                    }
                } else {
                    for (const [txIndex, transaction] of data.transactions.entries()) {
                        transactions++;
                        byCode[transaction.validationCode] = (byCode[transaction.validationCode] ?? 0) + 1;
                        lastTime = transaction.proposal.timestamp;
                        // A network records a transaction whose creator or signature failed as such: it must fail here too.
                        if (checkSignatures && checkCreator(block.number, transaction, found?.verdicts[txIndex]) === undefined && transaction.validationCode === 'BAD_CREATOR_SIGNATURE') {
                            validation.push({ blockNumber: block.number, transactionId: transaction.transactionId, problem: 'marked BAD_CREATOR_SIGNATURE, but its creator and signature verify' });
                        }
                        if (checkValidation) {
                            validationChecked++;
                            const code = expectedCode(transaction, data.consensus?.time);
                            if (code !== transaction.validationCode) {
                                validation.push({ blockNumber: block.number, transactionId: transaction.transactionId, problem: `marked ${transaction.validationCode}, but replay finds it ${code}` });
                            }
                        }
                        seen.add(transaction.transactionId);
                        if (transaction.validationCode !== 'VALID') {
                            continue;
                        }
                        for (const write of transaction.readWriteSet.writes) {
                            const id = stateId(write.namespace, write.key);
                            const value = write.value ?? '';
                            if (rebuildState && write.isDelete) {
                                state.delete(id);
                            } else if (rebuildState) {
                                state.set(id, { value, version: { blockNumber: block.number, txIndex } });
                            }
                            if (options.watch?.(write.namespace, write.key)) {
                                const list = changes.get(id) ?? [];
                                list.push({
                                    blockNumber: block.number, txIndex, transactionId: transaction.transactionId, timestamp: transaction.proposal.timestamp,
                                    mspId: transaction.proposal.creator.mspId, creator: subjectOf(transaction.proposal.creator.certificate),
                                    call: `${transaction.proposal.contract}:${transaction.proposal.transaction}`, isDelete: write.isDelete,
                                    ...(write.isDelete ? {} : { value: Buffer.from(value, 'base64').toString('utf8') }),
                                });
                                changes.set(id, list);
                            }
                        }
                    }
                }
                previousHash = block.headerHash.toString('hex');
                expected = block.number + 1;
                if (options.onProgress && (block.number % every === 0 || block.number === last)) {
                    options.onProgress({ blockNumber: block.number, height, transactions });
                }
            }
            next = expected;
        }
    } finally {
        // A replay that stopped early leaves a page being read: its outcome no longer matters.
        reading.catch(() => undefined);
        await pool?.close();
    }
    return {
        channel: config?.channel ?? '', chaincode: config?.chaincode ?? '', blocks: expected, lastBlock: expected - 1, lastHash: previousHash, lastTime,
        transactions, byCode, chain, signaturesChecked, signatures, validationChecked, validation, state, changes, reachedTip: expected === height,
    };
}

const subjects = new Map<string, string>();

function subjectOf(certificatePem: string): string {
    let subject = subjects.get(certificatePem);
    if (subject === undefined) {
        try {
            subject = new X509Certificate(certificatePem).subject.replace(/\n/g, ', ');
        } catch {
            subject = '(unreadable certificate)';
        }
        subjects.set(certificatePem, subject);
    }
    return subject;
}
