import { type KeyObject, verify, X509Certificate } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { type Proposal, proposalDigest, sha256Hex, transactionIdOf } from '../storage/blocks';

/**
 * One of an auditor's workers: given stored blocks' data, it answers the SHA-256 of each block's
 * data and, for each transaction, whether its creator's certificate key signed its proposal
 * (ECDSA over the SHA-256 of the canonical proposal) and whether its id derives from the
 * proposal's nonce and creator. Everything else the replay checks itself, in order.
 */
interface Request {
    readonly id: number;
    /** Each block's data: its bytes, or the text they are in UTF-8. */
    readonly blocks: readonly (Uint8Array | string)[];
}

/** A transaction's verdict: bits of what holds. */
export const SIGNED = 1;
export const ID_DERIVED = 2;

const keys = new Map<string, KeyObject | null>();

function keyOf(certificate: string): KeyObject | null {
    let key = keys.get(certificate);
    if (key === undefined) {
        try {
            key = new X509Certificate(certificate).publicKey;
        } catch {
            key = null;
        }
        if (keys.size >= 10_000) {
            keys.clear();
        }
        keys.set(certificate, key);
    }
    return key;
}

function verdicts(data: Uint8Array | string): { dataHash: string; verdicts: Uint8Array } {
    const dataHash = sha256Hex(data);
    let parsed: { kind?: string; transactions?: { transactionId: string; proposal: Proposal; signature: string }[] };
    try {
        parsed = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')) as typeof parsed;
    } catch {
        return { dataHash, verdicts: new Uint8Array(0) };
    }
    const transactions = parsed.kind === 'transactions' ? parsed.transactions ?? [] : [];
    return {
        dataHash,
        verdicts: Uint8Array.from(transactions.map((transaction) => {
            let verdict = 0;
            try {
                if (transactionIdOf(transaction.proposal.nonce, transaction.proposal.creator) === transaction.transactionId) {
                    verdict |= ID_DERIVED;
                }
                const key = keyOf(transaction.proposal.creator.certificate);
                if (key && verify(null, proposalDigest(transaction.proposal), key, Buffer.from(transaction.signature, 'base64'))) {
                    verdict |= SIGNED;
                }
            } catch {
                // a malformed transaction: whatever was not shown to hold does not
            }
            return verdict;
        })),
    };
}

parentPort?.on('message', (request: Request) => {
    const answers = request.blocks.map(verdicts);
    parentPort?.postMessage({ id: request.id, answers }, answers.map((answer) => answer.verdicts.buffer as ArrayBuffer));
});
