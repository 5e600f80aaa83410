import { createHash, type KeyObject, verify, X509Certificate } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { canonicalJson } from '@counterfoil/chaincode/dist/common/canonical-json';

/**
 * One of an auditor's signature workers: given stored blocks' data, it answers for each
 * transaction whether its creator's certificate key signed its proposal (ECDSA over the SHA-256
 * of the canonical proposal, as every proposal is signed). Everything else about a transaction
 * the replay checks itself.
 */
interface Request {
    readonly id: number;
    readonly blocks: readonly Uint8Array[];
}

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

function verdicts(data: Uint8Array): Uint8Array {
    let parsed: { kind?: string; transactions?: { proposal: { creator: { certificate: string } }; signature: string }[] };
    try {
        parsed = JSON.parse(Buffer.from(data).toString('utf8')) as typeof parsed;
    } catch {
        return new Uint8Array(0);
    }
    const transactions = parsed.kind === 'transactions' ? parsed.transactions ?? [] : [];
    return Uint8Array.from(transactions.map((transaction) => {
        const key = keyOf(transaction.proposal.creator.certificate);
        if (!key) {
            return 0;
        }
        const digest = createHash('sha256').update(canonicalJson(transaction.proposal)).digest();
        try {
            return verify(null, digest, key, Buffer.from(transaction.signature, 'base64')) ? 1 : 0;
        } catch {
            return 0;
        }
    }));
}

parentPort?.on('message', (request: Request) => {
    const answers = request.blocks.map(verdicts);
    parentPort?.postMessage({ id: request.id, answers }, answers.map((answer) => answer.buffer as ArrayBuffer));
});
