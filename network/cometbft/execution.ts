import { withheldValue } from '@counterfoil/chaincode';
import { BlockStateView } from '../execution/block-view';
import { type ChaincodeRuntime, executeProposal } from '../execution/execute';
import type { Simulation, StateView } from '../execution/stub';
import { type Block, type BlockTransaction, makeBlock, type ValidationCode } from '../storage/blocks';
import type { BlockCommit } from '../storage/store';
import { decodeEnvelope, type Envelope, ProposalRules } from './transactions';

/** CheckTx and ExecTxResult codes: 0 is success. */
export const TX_CODES = {
    VALID: 0, MALFORMED: 1, BAD_CREATOR_SIGNATURE: 2, TIMESTAMP_OUT_OF_RANGE: 3, DUPLICATE_TXID: 4, BAD_PROPOSAL: 5, CHAINCODE_REFUSED: 6, TOO_LARGE: 7,
    // Never made by order-then-execute; named so every validation code has its number.
    MVCC_READ_CONFLICT: 8, PHANTOM_READ_CONFLICT: 9,
    /** CheckTx only: the node could not check the transaction now (its database did not answer). */
    UNAVAILABLE: 10,
} as const satisfies Record<string, number>;

/** One CometBFT block to execute, on the state its parent left. */
export interface BlockInput {
    /** The CometBFT height and time (the block's BFT time, the only clock its execution reads). */
    readonly height: number;
    readonly time: Date;
    readonly txs: readonly Uint8Array[];
    /** The number and hash of the last Counterfoil block before it. */
    readonly previous: { readonly number: number; readonly hash: string };
}

/** What executing a block came to: the Counterfoil block it makes (none when it holds no transaction) and each transaction's result. */
export interface BlockOutcome {
    readonly made?: { readonly block: Block; readonly bytes: Buffer };
    readonly commits: BlockCommit['transactions'][number][];
    readonly txResults: { readonly code: number; readonly log: string; readonly data: Uint8Array }[];
    /** The app hash after the block: the last Counterfoil block's hash. */
    readonly appHash: string;
}

export interface BlockExecutor {
    readonly rules: ProposalRules;
    readonly chaincode: ChaincodeRuntime;
    /** Committed state before the block. */
    readonly state: StateView;
    /** Which of these transaction ids an earlier block already holds. */
    committed(transactionIds: readonly string[]): Promise<Set<string>>;
    /**
     * Whether to run each transaction once over the state before the block first, so that the keys
     * they read come from a database together (state that answers at once has no use for it).
     */
    readonly warm?: boolean;
}

/**
 * Executes a CometBFT block's transactions in order, as every node does and as an auditor does
 * again: each through the proposal rules, then the chaincode over the state as the block has it
 * so far. Confidential content is never part of a transaction: each transient value is a
 * withheld stand-in made from the hash and length the proposal signs, so every party executes
 * the same way whether or not it holds the content, and no ordered transaction reads private
 * data values. Deterministic: the same state and block give the same outcome everywhere.
 */
export async function executeBlock(executor: BlockExecutor, input: BlockInput): Promise<BlockOutcome> {
    const { rules } = executor;
    const number = input.previous.number + 1;
    const view = new BlockStateView(executor.state, number);
    const decoded = input.txs.map((tx) => decodeEnvelope(tx));
    const ids = decoded.map((envelope) => typeof envelope === 'string' ? '' : ProposalRules.transactionId(envelope.proposal));
    // While the ids are looked up: the signatures are checked side by side, and (`warm`) each
    // transaction is run once over the state before the block, so that the keys they read come
    // from the database together (see StateReads) and are cached for the run that counts, in order.
    const signatures = rules.signatures(decoded);
    const warming = Promise.all(decoded.map((envelope, position) => (typeof envelope === 'string' || !executor.warm ? undefined
        : executeProposal(executor.chaincode, executor.state, { transactionId: ids[position] as string, proposal: envelope.proposal }, withheld(envelope), rules.collections, { refusePrivateReads: true })
            .catch(() => undefined))));
    const committedBefore = await executor.committed(ids.filter((id) => id !== ''));
    const signed = await signatures;
    await warming;
    const seen = new Set<string>();
    const transactions: BlockTransaction[] = [];
    const commits: BlockCommit['transactions'][number][] = [];
    const txResults: BlockOutcome['txResults'][number][] = [];
    for (const [position, envelope] of decoded.entries()) {
        if (typeof envelope === 'string') {
            // Only a faulty proposer includes what CheckTx refuses; it stays out of the Counterfoil block.
            txResults.push({ code: TX_CODES.MALFORMED, log: envelope, data: new Uint8Array(0) });
            continue;
        }
        const transactionId = ids[position] as string;
        const txIndex = transactions.length;
        const outcome = await executeTransaction(executor, view, envelope, transactionId, input.time, committedBefore.has(transactionId) || seen.has(transactionId), signed[position]);
        seen.add(transactionId);
        const transaction: BlockTransaction = {
            transactionId, proposal: envelope.proposal, signature: envelope.signature, validationCode: outcome.code,
            response: outcome.response, readWriteSet: outcome.readWriteSet, event: outcome.event,
        };
        transactions.push(transaction);
        const valid = outcome.code === 'VALID';
        if (valid && outcome.simulation) {
            view.apply(txIndex, transactionId, envelope.proposal.timestamp, outcome.simulation);
        }
        commits.push({
            transactionId, txIndex, validationCode: outcome.code, timestamp: envelope.proposal.timestamp,
            writes: valid ? transaction.readWriteSet.writes : [],
            metadataWrites: valid ? transaction.readWriteSet.metadataWrites : [],
            privateWrites: valid ? outcome.simulation?.privateWrites ?? [] : [],
        });
        txResults.push({ code: TX_CODES[outcome.code], log: outcome.response.message ?? outcome.problem ?? '', data: Buffer.from(outcome.response.payload, 'base64') });
    }
    if (transactions.length === 0) {
        // Nothing to record: the app hash stays.
        return { commits, txResults, appHash: input.previous.hash };
    }
    const made = makeBlock(number, input.previous.hash, { kind: 'transactions', transactions, consensus: { height: input.height, time: input.time.toISOString() } });
    return { made, commits, txResults, appHash: made.block.hash };
}

type TransactionOutcome = {
    code: ValidationCode; problem?: string; response: BlockTransaction['response']; readWriteSet: BlockTransaction['readWriteSet'];
    event?: BlockTransaction['event']; simulation?: Simulation;
};

/** One transaction of a block: the rules, then the chaincode over the state as the block has it so far. */
async function executeTransaction(
    executor: BlockExecutor, view: BlockStateView, envelope: Envelope, transactionId: string, time: Date, duplicate: boolean, signed: boolean | undefined,
): Promise<TransactionOutcome> {
    const nothing = { reads: [], rangeReads: [], writes: [], metadataWrites: [] };
    const refused = (code: ValidationCode, problem: string): TransactionOutcome => ({
        code, problem, response: { status: 500, payload: '', message: problem }, readWriteSet: nothing,
    });
    if (duplicate) {
        return refused('DUPLICATE_TXID', `transaction ${transactionId} is already in the ledger`);
    }
    const refusal = executor.rules.refusal(envelope, time, signed);
    if (refusal) {
        return refused(refusal.code, refusal.problem);
    }
    const { proposal } = envelope;
    const execution = await executeProposal(executor.chaincode, view, { transactionId, proposal }, withheld(envelope), executor.rules.collections, { refusePrivateReads: true });
    if (execution.outcome === 'unavailable') {
        // Not a property of the transaction: the party must not decide on it. A node stops, and
        // CometBFT replays the block when it is back.
        throw new Error(`the state could not be read while executing a block: ${execution.failure.message}`);
    }
    if (execution.outcome === 'refused') {
        return refused('CHAINCODE_REFUSED', execution.message);
    }
    const { response, simulation } = execution;
    return {
        code: 'VALID',
        response: { status: response.status, payload: Buffer.from(response.payload ?? new Uint8Array(0)).toString('base64') },
        readWriteSet: simulation.readWriteSet,
        event: simulation.event ? { name: simulation.event.name, payload: Buffer.from(simulation.event.payload).toString('base64') } : undefined,
        simulation,
    };
}

/** Each transient value as the withheld stand-in every party executes with: the hash and length the proposal signs. */
function withheld(envelope: Envelope): Map<string, Uint8Array> {
    const { proposal } = envelope;
    return new Map(Object.entries(proposal.transientHashes).map(([name, sha256]) => [name, withheldValue(sha256, proposal.transientSizes?.[name] ?? 0)]));
}
