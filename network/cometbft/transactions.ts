import { canonicalJson } from '@counterfoil/chaincode';
import { MembershipAuthority, signedBy } from '../membership/authorities';
import { type ChannelConfig, type Proposal, proposalDigest, sha256Hex, transactionIdOf, type ValidationCode } from '../storage/blocks';

/**
 * A transaction as it travels through CometBFT: the signed proposal and the transient inputs
 * the chaincode reads. The stored block keeps the proposal (with the transient values' hashes)
 * and the signature, never the transient values.
 */
export interface Envelope {
    readonly proposal: Proposal;
    /** Base64 ECDSA signature of the creator over SHA-256 of the canonical proposal. */
    readonly signature: string;
    /** Base64 transient values by name. */
    readonly transient: Readonly<Record<string, string>>;
}

export function encodeEnvelope(envelope: Envelope): Buffer {
    return Buffer.from(canonicalJson(envelope), 'utf8');
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The envelope in a transaction's bytes, or why they are not one. */
export function decodeEnvelope(bytes: Uint8Array): Envelope | string {
    let value: unknown;
    try {
        value = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
        return 'the transaction is not JSON';
    }
    if (!isObject(value) || !isString(value.signature) || !isObject(value.transient) || !Object.values(value.transient).every(isString)) {
        return 'the transaction is not a signed proposal envelope';
    }
    const proposal = value.proposal;
    if (!isObject(proposal) || !isObject(proposal.creator) || !isString(proposal.creator.mspId) || !isString(proposal.creator.certificate)
        || !isString(proposal.nonce) || !isString(proposal.timestamp) || !isString(proposal.channel) || !isString(proposal.chaincode)
        || !isString(proposal.contract) || !isString(proposal.transaction) || !Array.isArray(proposal.arguments) || !proposal.arguments.every(isString)
        || !isObject(proposal.transientHashes) || !Object.values(proposal.transientHashes).every(isString)
        || Number.isNaN(Date.parse(proposal.timestamp))) {
        return 'the transaction\'s proposal is not of the shape of a proposal';
    }
    return value as unknown as Envelope;
}

export interface Refusal {
    readonly code: Exclude<ValidationCode, 'VALID' | 'MVCC_READ_CONFLICT' | 'PHANTOM_READ_CONFLICT' | 'CHAINCODE_REFUSED'>;
    readonly problem: string;
}

/**
 * The rules every node applies to a proposal before executing it, from the channel
 * configuration in block 0 alone: its creator is a member of an organisation of the channel
 * (certificate issued by that organisation's root, valid at the proposal's time), its signature
 * matches, its id derives from its nonce and creator, it names this channel and chaincode, its
 * transient values match their hashes, and its time lies within the tolerance of `time` (the
 * block's time on execution, the node's clock on admission to the mempool).
 */
export class ProposalRules {
    private readonly roots: ReadonlyMap<string, MembershipAuthority>;

    constructor(readonly config: ChannelConfig & { readonly consensus: NonNullable<ChannelConfig['consensus']> }) {
        this.roots = new Map(config.organisations.map((organisation) => [organisation.mspId, MembershipAuthority.root(organisation.mspId, organisation.rootCertificate)]));
    }

    /** Why the envelope may not be executed at `time`, or undefined. */
    refusal(envelope: Envelope, time: Date): Refusal | undefined {
        const { proposal } = envelope;
        if (proposal.channel !== this.config.channel || proposal.chaincode !== this.config.chaincode) {
            return { code: 'BAD_PROPOSAL', problem: `the proposal names channel ${proposal.channel} and chaincode ${proposal.chaincode}, not this network's` };
        }
        const names = Object.keys(envelope.transient).sort();
        const hashed = Object.keys(proposal.transientHashes).sort();
        if (names.join('\u0000') !== hashed.join('\u0000')
            || names.some((name) => sha256Hex(Buffer.from(envelope.transient[name] as string, 'base64')) !== proposal.transientHashes[name])) {
            return { code: 'BAD_PROPOSAL', problem: 'the transient values do not match the hashes the proposal signs' };
        }
        const proposed = Date.parse(proposal.timestamp);
        const tolerance = this.config.consensus.timestampToleranceMs;
        if (Math.abs(proposed - time.getTime()) > tolerance) {
            return {
                code: 'TIMESTAMP_OUT_OF_RANGE',
                problem: `the proposal's timestamp ${proposal.timestamp} is more than ${tolerance / 1000} s from ${time.toISOString()}`,
            };
        }
        const authority = this.roots.get(proposal.creator.mspId);
        if (!authority) {
            return { code: 'BAD_CREATOR_SIGNATURE', problem: `organisation ${proposal.creator.mspId} is not part of this network` };
        }
        const member = authority.admit(proposal.creator.certificate, new Date(proposed));
        if (typeof member === 'string') {
            return { code: 'BAD_CREATOR_SIGNATURE', problem: member };
        }
        if (!signedBy(member, proposalDigest(proposal), Buffer.from(envelope.signature, 'base64'))) {
            return { code: 'BAD_CREATOR_SIGNATURE', problem: 'the creator\'s signature does not match the proposal' };
        }
        return undefined;
    }

    /** The id a proposal's transaction has: derived from its nonce and creator, never chosen. */
    static transactionId(proposal: Proposal): string {
        return transactionIdOf(proposal.nonce, proposal.creator);
    }
}
