import { randomBytes } from 'node:crypto';
import type { ChaincodeResponse } from 'fabric-shim-api';
import { endorseErrorFrom, LedgerError, type TransactionRequest } from '../ledger';
import { type Proposal, proposalDigest, sha256Hex, transactionIdOf } from '../storage/blocks';
import type { loadChaincode } from './chaincode-runtime';
import { type Member, type MembershipAuthority, verifySignature } from '../membership/authorities';
import { EmbeddedStub, endorsementProblem, type Simulation, type StateView } from './stub';

export type ChaincodeRuntime = ReturnType<typeof loadChaincode>;

/** A proposal as its creator signed it. */
export interface SignedProposal {
    readonly transactionId: string;
    readonly proposal: Proposal;
    readonly digest: Buffer;
    readonly signature: Buffer;
}

/** A proposal for a request, at a time, with the id its transaction will have; not signed yet. */
export function buildProposal(request: TransactionRequest, target: Readonly<{ channel: string; chaincode: string }>, now: Date): { transactionId: string; proposal: Proposal } {
    const creator = { mspId: request.identity.mspId, certificate: request.identity.certificate };
    const transient = Object.entries(request.transient ?? {}).sort(([left], [right]) => left.localeCompare(right));
    const nonce = randomBytes(24).toString('base64');
    const proposal: Proposal = {
        channel: target.channel,
        chaincode: target.chaincode,
        contract: request.contract,
        transaction: request.transaction,
        arguments: [...(request.arguments ?? [])],
        transientHashes: Object.fromEntries(transient.map(([name, value]) => [name, sha256Hex(value)])),
        ...(transient.length > 0 ? { transientSizes: Object.fromEntries(transient.map(([name, value]) => [name, value.length])) } : {}),
        creator,
        nonce,
        timestamp: now.toISOString(),
    };
    return { transactionId: transactionIdOf(nonce, creator), proposal };
}

/** Builds the proposal for a request, at a time, and has the caller's identity sign it. */
export async function signProposal(request: TransactionRequest, target: Readonly<{ channel: string; chaincode: string }>, now: Date): Promise<SignedProposal> {
    return sign(request, buildProposal(request, target, now));
}

async function sign(request: TransactionRequest, built: { transactionId: string; proposal: Proposal }): Promise<SignedProposal> {
    const digest = proposalDigest(built.proposal);
    return { ...built, digest, signature: Buffer.from(await request.identity.sign(digest)) };
}

/** Has the caller's identity sign the proposal, and refuses it unless the signature is the member's. */
async function signAndCheck(request: TransactionRequest, built: { transactionId: string; proposal: Proposal }, member: Member): Promise<SignedProposal> {
    const signed = await sign(request, built);
    if (!await verifySignature(member, signed.digest, signed.signature)) {
        throw new LedgerError({ code: 'UNAUTHENTICATED', field: 'identity', message: 'the proposal signature does not match the certificate', transactionId: signed.transactionId });
    }
    return signed;
}

/** What running a proposal through the chaincode came to. */
export type Execution =
    | { readonly outcome: 'endorsed'; readonly response: ChaincodeResponse; readonly simulation: Simulation }
    /** The chaincode (or fabric-contract-api's argument checks) refused the call; the message says why. */
    | { readonly outcome: 'refused'; readonly message: string; readonly error: LedgerError }
    /** The state could not be read: nothing is known about the call itself. */
    | { readonly outcome: 'unavailable'; readonly failure: Error };

/**
 * Runs a proposal through the chaincode over a view of committed state, with the proposal's
 * timestamp as the transaction's time. The same function simulates a call for its endorsement
 * (the embedded ledger, a network gateway) and executes an ordered transaction on every node.
 */
export async function executeProposal(
    runtime: ChaincodeRuntime,
    view: StateView,
    signed: Readonly<{ transactionId: string; proposal: Proposal }>,
    transient: ReadonlyMap<string, Uint8Array>,
    collections: ReadonlySet<string>,
    options: Readonly<{ refusePrivateReads?: boolean }> = {},
): Promise<Execution> {
    const { proposal } = signed;
    const stub = new EmbeddedStub({
        store: view,
        channel: proposal.channel,
        transactionId: signed.transactionId,
        timestamp: new Date(proposal.timestamp),
        creator: proposal.creator,
        arguments: [`${proposal.contract}:${proposal.transaction}`, ...proposal.arguments],
        transient,
        collections,
        refusePrivateReads: options.refusePrivateReads,
    });
    let response: ChaincodeResponse;
    try {
        response = await runtime.invoke(stub);
    } catch (error) {
        throw new LedgerError({ code: 'INTERNAL', message: `chaincode failed: ${(error as Error).message}`, transactionId: signed.transactionId, cause: error });
    }
    // The chaincode turns a failed read into a refusal; it is the ledger's trouble, not the request's.
    if (stub.storeFailure) {
        return { outcome: 'unavailable', failure: stub.storeFailure };
    }
    if (response.status !== 200) {
        const message = response.message ?? 'the chaincode refused the transaction';
        return { outcome: 'refused', message, error: endorseErrorFrom(message, signed.transactionId) };
    }
    const simulation = stub.results();
    const problem = endorsementProblem(simulation);
    if (problem) {
        return { outcome: 'refused', message: problem, error: new LedgerError({ code: 'FAILED_PRECONDITION', field: 'transaction', message: problem, transactionId: signed.transactionId }) };
    }
    return { outcome: 'endorsed', response, simulation };
}

/** Where a party endorses: the organisations it admits, the chaincode, and the state it simulates on. */
export interface Endorser {
    readonly authorities: ReadonlyMap<string, MembershipAuthority>;
    readonly target: Readonly<{ channel: string; chaincode: string }>;
    readonly runtime: ChaincodeRuntime;
    readonly view: StateView;
    readonly collections: ReadonlySet<string>;
}

/**
 * Endorses a request as both backends do before anything is ordered: the caller must be a member
 * of its organisation, valid now; it signs the proposal, whose signature must match its
 * certificate; the chaincode simulates it over committed state. A refusal, an unreadable state
 * or a bad identity is thrown as the ledger error it is, with the transaction's id.
 */
export async function endorse(endorser: Endorser, request: TransactionRequest): Promise<{ signed: SignedProposal; response: ChaincodeResponse; simulation: Simulation }> {
    const now = new Date();
    const authority = endorser.authorities.get(request.identity.mspId);
    if (!authority) {
        throw new LedgerError({ code: 'UNAUTHENTICATED', field: 'identity', message: `organisation ${request.identity.mspId} is not part of this ledger` });
    }
    const member = authority.admit(request.identity.certificate, now);
    if (typeof member === 'string') {
        throw new LedgerError({ code: 'UNAUTHENTICATED', field: 'identity', message: member });
    }
    // The proposal's id and content are fixed before it is signed: the simulation (which reads and
    // writes nothing but its own result) runs while the signature is made and checked on libuv's
    // thread pool, and its result counts only once the signature is found to match.
    const proposal = buildProposal(request, endorser.target, now);
    const [signing, executing] = await Promise.allSettled([
        signAndCheck(request, proposal, member),
        executeProposal(endorser.runtime, endorser.view, proposal, new Map(Object.entries(request.transient ?? {})), endorser.collections),
    ]);
    if (signing.status === 'rejected') {
        throw signing.reason;
    }
    if (executing.status === 'rejected') {
        throw executing.reason;
    }
    const signed = signing.value;
    const execution = executing.value;
    if (execution.outcome === 'unavailable') {
        throw new LedgerError({
            code: 'UNAVAILABLE', message: `the ledger's state could not be read: ${execution.failure.message}`, transactionId: signed.transactionId, cause: execution.failure,
        });
    }
    if (execution.outcome === 'refused') {
        throw execution.error;
    }
    return { signed, response: execution.response, simulation: execution.simulation };
}
