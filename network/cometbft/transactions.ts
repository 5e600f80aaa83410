import { canonicalJson } from '@counterfoil/chaincode';
import { type Member, MembershipAuthority, signedBy, verifySignature } from '../membership/authorities';
import { type ChannelConfig, type Proposal, proposalDigest, transactionIdOf, type ValidationCode } from '../storage/blocks';

/**
 * A transaction as it travels through CometBFT: the signed proposal, with the hash and length
 * of each transient value, and nothing else. The values themselves (confidential content) never
 * travel with a transaction: the submitting party sends them to the nodes of the collection's
 * members alone, over the private data channel.
 */
export interface Envelope {
    readonly proposal: Proposal;
    /** Base64 ECDSA signature of the creator over SHA-256 of the canonical proposal. */
    readonly signature: string;
}

export function encodeEnvelope(envelope: Envelope): Buffer {
    return Buffer.from(canonicalJson(envelope), 'utf8');
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isSize = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The envelope in a transaction's bytes, or why they are not one. */
export function decodeEnvelope(bytes: Uint8Array): Envelope | string {
    let value: unknown;
    try {
        value = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
        return 'the transaction is not JSON';
    }
    if (!isObject(value) || !isString(value.signature)) {
        return 'the transaction is not a signed proposal envelope';
    }
    if (value.transient !== undefined) {
        return 'a transaction carries no transient values: confidential content goes to the members of its collection only, never into a transaction';
    }
    const proposal = value.proposal;
    if (!isObject(proposal) || !isObject(proposal.creator) || !isString(proposal.creator.mspId) || !isString(proposal.creator.certificate)
        || !isString(proposal.nonce) || !isString(proposal.timestamp) || !isString(proposal.channel) || !isString(proposal.chaincode)
        || !isString(proposal.contract) || !isString(proposal.transaction) || !Array.isArray(proposal.arguments) || !proposal.arguments.every(isString)
        || !isObject(proposal.transientHashes) || !Object.values(proposal.transientHashes).every(isString)
        || (proposal.transientSizes !== undefined && (!isObject(proposal.transientSizes) || !Object.values(proposal.transientSizes).every(isSize)))
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
    /** Each organisation's root certificate, as an authority that admits its members. */
    readonly roots: ReadonlyMap<string, MembershipAuthority>;
    /** The private data collections' names. */
    readonly collections: ReadonlySet<string>;
    /** The organisations of each collection. */
    readonly members: ReadonlyMap<string, readonly string[]>;

    constructor(readonly config: ChannelConfig & { readonly consensus: NonNullable<ChannelConfig['consensus']> }) {
        this.roots = new Map(config.organisations.map((organisation) => [organisation.mspId, MembershipAuthority.root(organisation.mspId, organisation.rootCertificate)]));
        this.collections = new Set(config.collections.map((collection) => collection.name));
        this.members = new Map(config.collections.map((collection) => [collection.name, collection.members]));
    }

    /**
     * The one rule whose answer changes while a transaction waits: its timestamp must lie within
     * the tolerance of `time`.
     */
    staleness(envelope: Envelope, time: Date): Refusal | undefined {
        const { timestamp } = envelope.proposal;
        const tolerance = this.config.consensus.timestampToleranceMs;
        if (Math.abs(Date.parse(timestamp) - time.getTime()) > tolerance) {
            return { code: 'TIMESTAMP_OUT_OF_RANGE', problem: `the proposal's timestamp ${timestamp} is more than ${tolerance / 1000} s from ${time.toISOString()}` };
        }
        return undefined;
    }

    /**
     * Whether each envelope's signature is its creator's, checked side by side on libuv's thread
     * pool; undefined for one whose creator no root admits (`refusal` says why, checking then).
     */
    signatures(envelopes: readonly (Envelope | string)[]): Promise<(boolean | undefined)[]> {
        return Promise.all(envelopes.map(async (envelope) => {
            if (typeof envelope === 'string') {
                return undefined;
            }
            let member;
            try {
                member = this.creator(envelope.proposal);
            } catch {
                return undefined; // `refusal` meets the same trouble in its own order
            }
            return 'code' in member ? undefined : verifySignature(member, proposalDigest(envelope.proposal), Buffer.from(envelope.signature, 'base64'));
        }));
    }

    /**
     * Why the envelope may not be executed at `time`, or undefined. `signed`: whether its signature
     * was found to be its creator's (see `signatures`); checked here when not given.
     */
    refusal(envelope: Envelope, time: Date, signed?: boolean): Refusal | undefined {
        const { proposal } = envelope;
        if (proposal.channel !== this.config.channel || proposal.chaincode !== this.config.chaincode) {
            return { code: 'BAD_PROPOSAL', problem: `the proposal names channel ${proposal.channel} and chaincode ${proposal.chaincode}, not this network's` };
        }
        const hashed = Object.keys(proposal.transientHashes).sort();
        const sized = Object.keys(proposal.transientSizes ?? {}).sort();
        if (hashed.join('\u0000') !== sized.join('\u0000') || hashed.some((name) => !/^[0-9a-f]{64}$/.test(proposal.transientHashes[name] as string))) {
            return { code: 'BAD_PROPOSAL', problem: 'the proposal must sign a SHA-256 and a length for each transient value, and for no other' };
        }
        const largest = Math.max(0, ...Object.values(proposal.transientSizes ?? {}));
        if (largest > this.config.consensus.maxTransactionBytes) {
            return { code: 'BAD_PROPOSAL', problem: `a transient value of ${largest} bytes is over the network's limit of ${this.config.consensus.maxTransactionBytes}` };
        }
        const stale = this.staleness(envelope, time);
        if (stale) {
            return stale;
        }
        const member = this.creator(proposal);
        if ('code' in member) {
            return member;
        }
        if (!(signed ?? signedBy(member, proposalDigest(proposal), Buffer.from(envelope.signature, 'base64')))) {
            return { code: 'BAD_CREATOR_SIGNATURE', problem: 'the creator\'s signature does not match the proposal' };
        }
        return undefined;
    }

    /** The proposal's creator as its organisation's root admits it at the proposal's time, or why not. */
    private creator(proposal: Proposal): Member | Refusal {
        const authority = this.roots.get(proposal.creator.mspId);
        if (!authority) {
            return { code: 'BAD_CREATOR_SIGNATURE', problem: `organisation ${proposal.creator.mspId} is not part of this network` };
        }
        const member = authority.admit(proposal.creator.certificate, new Date(Date.parse(proposal.timestamp)));
        return typeof member === 'string' ? { code: 'BAD_CREATOR_SIGNATURE', problem: member } : member;
    }

    /** The id a proposal's transaction has: derived from its nonce and creator, never chosen. */
    static transactionId(proposal: Proposal): string {
        return transactionIdOf(proposal.nonce, proposal.creator);
    }
}
