import type { ConsensusSource } from '../audit/consensus';
import type { Enrolment } from './enrolment';
import type { LedgerHistory } from './history';

/**
 * The ledger's port: what every backend offers its clients (the gateway, the adapters,
 * reconciliation), whatever orders and executes the transactions behind it. The embedded ledger
 * (network/embedded) implements it; so must every other backend.
 */

/** An X.509 identity of one organisation, and the means to sign with its key. */
export interface SigningIdentity {
    readonly mspId: string;
    /** PEM-encoded certificate. */
    readonly certificate: string;
    /** Signs a SHA-256 digest with the identity's private key (ECDSA, DER signature). */
    sign(digest: Uint8Array): Promise<Uint8Array>;
}

export interface TransactionRequest {
    readonly identity: SigningIdentity;
    /** Contract name within the chaincode, e.g. `handoffs`. */
    readonly contract: string;
    /** Transaction function, e.g. `Send`. */
    readonly transaction: string;
    readonly arguments?: readonly string[];
    /** Private inputs: never written to a block. */
    readonly transient?: Readonly<Record<string, Uint8Array>>;
}

export interface Committed {
    readonly result: Uint8Array;
    readonly transactionId: string;
    readonly blockNumber: bigint;
}

/** Where a reader of events or blocks starts or resumes. */
export interface Checkpoint {
    readonly blockNumber: bigint;
    /** The last transaction already processed within that block, if any. */
    readonly transactionId?: string;
}

export interface LedgerEvent {
    readonly blockNumber: bigint;
    readonly transactionId: string;
    readonly transactionIndex: number;
    readonly timestamp: string;
    readonly name: string;
    readonly payload: Uint8Array;
}

export interface CloseableAsyncIterable<T> extends AsyncIterable<T> {
    close(): void;
}

/** A transaction as it stands in a block, whichever ledger holds it. */
export interface LedgerBlockTransaction {
    readonly transactionId: string;
    readonly creatorMspId: string;
    readonly timestamp: string;
    /** VALID, or the reason the transaction was invalidated (e.g. MVCC_READ_CONFLICT). */
    readonly validationCode: string;
    /** The chaincode event the transaction set, if any (valid or not: check validationCode). */
    readonly event?: { readonly name: string; readonly payload: Uint8Array };
}

export interface LedgerBlock {
    readonly number: bigint;
    /** Hex SHA-256 of the previous block's header ('' for block 0). */
    readonly previousHash: string;
    readonly dataHash: string;
    readonly transactions: readonly LedgerBlockTransaction[];
}

export interface LedgerInfo {
    /** Number of blocks; the next block's number. */
    readonly height: bigint;
    readonly currentBlockHash: string;
}

/** Whether the ledger's stored history verifies; a ledger whose history does not takes no writes. */
export interface LedgerIntegrity {
    readonly verified: boolean;
    /** Blocks checked. */
    readonly blocks: number;
    readonly problems: readonly { readonly blockNumber: number; readonly problem: string }[];
}

/** One validator of a network as the party's node sees it. */
export interface ValidatorStatus {
    readonly name: string;
    /** The last height it is known to have reached (undefined when its node is not connected). */
    readonly height?: number;
    /** Within one height of the party's own node. */
    readonly inStep: boolean;
}

/** Who orders the ledger's blocks, and how far each orderer has come. */
export type ConsensusStatus =
    | { readonly engine: 'embedded'; readonly height: number }
    | { readonly engine: 'cometbft'; readonly chainId: string; readonly node: string; readonly height: number; readonly validators: readonly ValidatorStatus[] };

/** A ledger as one party holds it: what it submits and reads, the authorities it enrols with, the history its auditor verifies. */
export interface PartyLedger extends Ledger {
    readonly enrolment: Enrolment;
    readonly history: LedgerHistory;
    consensus(): Promise<ConsensusStatus>;
    /** Where an auditor reads the consensus chain this party's node follows (a network's; none on the embedded ledger). */
    consensusSource?(): ConsensusSource;
}

export interface Ledger {
    /** Endorses, orders and commits a transaction; resolves once it is committed as valid. */
    submit(request: TransactionRequest): Promise<Committed>;
    /** Runs a read-only transaction against committed state. */
    evaluate(request: TransactionRequest): Promise<Uint8Array>;
    /** Chaincode events of valid transactions, from a checkpoint, then live. */
    events(options?: { readonly start?: Checkpoint }): CloseableAsyncIterable<LedgerEvent>;
    /** Blocks from a number, then each new one as it commits. */
    blocks(startBlock?: bigint): CloseableAsyncIterable<LedgerBlock>;
    info(): Promise<LedgerInfo>;
    /** The ledger's history as verified when it was opened. */
    integrity(): LedgerIntegrity;
    /** Where a transaction was committed and whether it was valid; undefined if the ledger has no such transaction. */
    transaction(transactionId: string): Promise<{ readonly blockNumber: bigint; readonly validationCode: string } | undefined>;
    close(): Promise<void>;
}
