import { createHash, X509Certificate } from 'node:crypto';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Pool } from 'pg';
import type { MembershipAuthority } from '../membership/authorities';
import type { BlockCommit } from '../storage/store';
import type { ProposalRules } from './transactions';

/** A node's TLS identity: a certificate its organisation's authority issued for it, and the key. */
export interface NodeTls {
    readonly certificate: string;
    readonly privateKey: string;
}

/** Where another node of the network takes and hands out confidential content. */
export interface PrivateDataPeer {
    readonly name: string;
    readonly mspId: string;
    /** e.g. https://127.0.0.1:26670 */
    readonly url: string;
}

const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

type Commits = BlockCommit['transactions'];

/**
 * What a node keeps of a block's private writes. Outside a collection it keeps nothing (the
 * hashes are in the public state). In one, content withheld from execution is the content sent
 * ahead of the transaction, when its hash is the one the block committed; content that did not
 * come stays withheld, and is recorded as missing until it is fetched from another member.
 */
export async function keepPrivateWrites(pool: Pool, organisation: string | undefined, members: ReadonlyMap<string, readonly string[]>, commits: Commits): Promise<Commits> {
    const isMember = (collection: string): boolean => organisation !== undefined && (members.get(collection) ?? []).includes(organisation);
    const wanted = commits.flatMap((commit) => commit.privateWrites
        .filter((write) => write.withheld !== undefined && isMember(write.collection))
        .map((write) => ({ transactionId: commit.transactionId, sha256: write.withheld as string })));
    const received = new Map<string, Buffer>();
    if (wanted.length > 0) {
        const rows = await pool.query<{ transaction_id: string; sha256: Buffer; content: Buffer }>(
            `SELECT p.transaction_id, p.sha256, p.content FROM private_pending p
               JOIN unnest($1::text[], $2::bytea[]) AS w (transaction_id, sha256) ON p.transaction_id = w.transaction_id AND p.sha256 = w.sha256`,
            [wanted.map((want) => want.transactionId), wanted.map((want) => Buffer.from(want.sha256, 'hex'))]);
        for (const row of rows.rows) {
            // Checked again here: what is kept is what the block committed to, whatever was sent.
            if (sha256(row.content).equals(row.sha256)) {
                received.set(`${row.transaction_id}\u0000${row.sha256.toString('hex')}`, row.content);
            }
        }
    }
    return commits.map((commit) => ({
        ...commit,
        privateWrites: commit.privateWrites.filter((write) => isMember(write.collection)).map((write) => {
            const content = write.withheld === undefined ? undefined : received.get(`${commit.transactionId}\u0000${write.withheld}`);
            return content ? { collection: write.collection, key: write.key, value: content } : write;
        }),
    }));
}

/** How many private data items a node's database knows it should hold but does not yet. */
export async function missingPrivateData(pool: Pool): Promise<number> {
    const result = await pool.query<{ n: string }>('SELECT count(*) AS n FROM private_missing');
    return Number(result.rows[0]?.n ?? 0);
}

export class PrivateDataError extends Error {
    constructor(readonly status: number, message: string) {
        super(message);
        this.name = 'PrivateDataError';
    }
}

/**
 * A node's side of the private data channel: an HTTPS server that admits only clients
 * presenting a certificate of one of the network's organisations (mutual TLS against the roots
 * in block 0). A submitting party sends content ahead of its transaction (`PUT
 * /v1/pending/{transactionId}`), which waits until a block commits its hash; another member
 * of a collection fetches content it missed (`GET /v1/private`), and gets it only if its
 * organisation is a member. Nothing here answers a non-member with content.
 */
export class PrivateDataServer {
    private constructor(private readonly server: Server) {}

    static async listen(options: Readonly<{
        pool: Pool; namespace: string; organisation: string; tls: NodeTls; rules: ProposalRules;
        host: string; port: number; maxContentBytes: number; log?: (message: string) => void;
    }>): Promise<PrivateDataServer> {
        const roots = [...options.rules.roots.values()];
        const members = options.rules.members;
        const log = options.log ?? (() => undefined);
        const server = createServer({
            key: options.tls.privateKey, cert: options.tls.certificate, ca: roots.map((root) => root.record.certificate),
            requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3',
        }, (request, response) => {
            handle(request, response).catch((error: Error) => {
                const status = error instanceof PrivateDataError ? error.status : 500;
                if (status === 500) {
                    log(`private data request failed: ${error.message}`);
                }
                response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: error.message }));
            });
        });

        const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
            const client = clientOrganisation(request.socket as TLSSocket, roots);
            const url = new URL(request.url ?? '/', 'https://node');
            const pending = /^\/v1\/pending\/([0-9a-f]{64})$/.exec(url.pathname);
            if (request.method === 'PUT' && pending) {
                const transactionId = pending[1] as string;
                const collection = url.searchParams.get('collection') ?? '';
                if (!(members.get(collection) ?? []).includes(options.organisation)) {
                    // Refused before its body is read: content of a collection this node's organisation is not in is none of its business.
                    log(`private data: refused content for transaction ${transactionId} from ${client}: ${options.organisation} is not a member of collection ${collection || '(none named)'}`);
                    response.setHeader('Connection', 'close');
                    throw new PrivateDataError(403, `${options.organisation} is not a member of collection ${collection || '(none named)'}`);
                }
                const content = await readBody(request, options.maxContentBytes);
                const digest = sha256(content);
                await options.pool.query(
                    `INSERT INTO private_pending (transaction_id, sha256, content, sender) VALUES ($1::text, $2::bytea, $3::bytea, $4::text)
                     ON CONFLICT (transaction_id, sha256) DO NOTHING`, [transactionId, digest, content, client]);
                // A block that committed it before it came (the sender was slow): it is no longer missing.
                await fillMissing(options.pool, options.namespace, digest, content);
                log(`private data: content of ${collection} for transaction ${transactionId} (${content.length} bytes) from ${client}, held until its block`);
                response.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ sha256: digest.toString('hex') }));
                return;
            }
            if (request.method === 'GET' && url.pathname === '/v1/private') {
                const collection = url.searchParams.get('collection') ?? '';
                const key = Buffer.from(url.searchParams.get('key') ?? '', 'base64url');
                const wanted = url.searchParams.get('sha256') ?? '';
                if (!(members.get(collection) ?? []).includes(client)) {
                    throw new PrivateDataError(403, `${client} is not a member of collection ${collection}`);
                }
                const row = await options.pool.query<{ value: Buffer }>(
                    'SELECT value FROM private_state WHERE namespace = $1::text AND collection = $2::text AND key = $3::bytea', [options.namespace, collection, key]);
                const value = row.rows[0]?.value;
                if (!value || sha256(value).toString('hex') !== wanted) {
                    throw new PrivateDataError(404, `this node holds no content of ${collection} with that key and hash`);
                }
                log(`private data: handed content of ${collection} (${value.length} bytes) to ${client}, a member`);
                response.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(value);
                return;
            }
            throw new PrivateDataError(404, `no route ${request.method} ${url.pathname}`);
        };

        await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(options.port, options.host, () => resolve());
        });
        return new PrivateDataServer(server);
    }

    async close(): Promise<void> {
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
        this.server.closeAllConnections();
    }
}

/** The organisation whose authority issued the client's certificate (TLS has checked the chain). */
function clientOrganisation(socket: TLSSocket, roots: readonly MembershipAuthority[]): string {
    const raw = socket.getPeerCertificate()?.raw;
    if (!raw) {
        throw new PrivateDataError(401, 'a client certificate is required');
    }
    const pem = new X509Certificate(raw).toString();
    for (const root of roots) {
        if (typeof root.member(pem) !== 'string') {
            return root.mspId;
        }
    }
    throw new PrivateDataError(403, 'the client certificate is not issued by an organisation of this network');
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of request) {
        length += (chunk as Buffer).length;
        if (length > limit) {
            throw new PrivateDataError(413, `content is limited to ${limit} bytes`);
        }
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
}

/** Moves content a block committed to but this node lacked into its private state. */
async function fillMissing(pool: Pool, namespace: string, digest: Buffer, content: Buffer, only?: { collection: string; key: Buffer }): Promise<number> {
    const result = await pool.query(
        `WITH filled AS (
            DELETE FROM private_missing WHERE namespace = $1::text AND sha256 = $2::bytea
               AND ($4::text IS NULL OR (collection = $4::text AND key = $5::bytea))
            RETURNING collection, key, block_number, tx_index)
         INSERT INTO private_state (namespace, collection, key, value, block_number, tx_index)
         SELECT $1::text, collection, key, $3::bytea, block_number, tx_index FROM filled
         ON CONFLICT (namespace, collection, key) DO UPDATE SET value = EXCLUDED.value, block_number = EXCLUDED.block_number, tx_index = EXCLUDED.tx_index`,
        [namespace, digest, content, only?.collection ?? null, only?.key ?? null]);
    return result.rowCount ?? 0;
}

/** The client side of the channel: a party (a gateway, or a node fetching what it missed) presenting its organisation's certificate. */
export class PrivateDataClient {
    private readonly agent: Agent;

    constructor(tls: NodeTls, roots: readonly string[], readonly peers: readonly PrivateDataPeer[], private readonly timeoutMs = 10_000) {
        this.agent = new Agent({ keepAlive: true, key: tls.privateKey, cert: tls.certificate, ca: [...roots], minVersion: 'TLSv1.3', maxSockets: 16 });
    }

    /**
     * Sends content of a collection ahead of its transaction to the nodes of the organisations
     * given (the collection's members), all at once; answers which took it and why the others did
     * not. A node outside the collection refuses it unread.
     */
    async send(transactionId: string, collection: string, content: Uint8Array, organisations: readonly string[]): Promise<{ took: string[]; failed: { node: string; problem: string }[] }> {
        const targets = this.peers.filter((peer) => organisations.includes(peer.mspId));
        const results = await Promise.all(targets.map(async (peer) => {
            try {
                await this.call(peer, 'PUT', `/v1/pending/${transactionId}?collection=${encodeURIComponent(collection)}`, content);
                return { node: peer.name };
            } catch (error) {
                return { node: peer.name, problem: (error as Error).message };
            }
        }));
        return {
            took: results.filter((result) => result.problem === undefined).map((result) => result.node),
            failed: results.filter((result): result is { node: string; problem: string } => result.problem !== undefined),
        };
    }

    /** Content of a collection's key with that hash, from the first other member that has it. */
    async fetch(collection: string, key: Buffer, digest: Buffer, members: readonly string[], self: string): Promise<Buffer | undefined> {
        const query = `collection=${encodeURIComponent(collection)}&key=${key.toString('base64url')}&sha256=${digest.toString('hex')}`;
        for (const peer of this.peers.filter((candidate) => members.includes(candidate.mspId) && candidate.name !== self)) {
            const content = await this.call(peer, 'GET', `/v1/private?${query}`).catch(() => undefined);
            if (content && sha256(content).equals(digest)) {
                return content;
            }
        }
        return undefined;
    }

    close(): void {
        this.agent.destroy();
    }

    private call(peer: PrivateDataPeer, method: string, path: string, body?: Uint8Array): Promise<Buffer> {
        return new Promise((resolve, reject) => {
            const request = httpsRequest(new URL(path, peer.url), {
                method, agent: this.agent, timeout: this.timeoutMs,
                // The server must be a node of the organisation the peer list names, whatever its address.
                checkServerIdentity: (_host, certificate) => (certificate.subject?.O === peer.mspId ? undefined : new Error(`${peer.url} presented a certificate of ${certificate.subject?.O ?? 'no organisation'}, not ${peer.mspId}`)),
                headers: body ? { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length } : {},
            }, (response) => {
                const chunks: Buffer[] = [];
                response.on('data', (chunk: Buffer) => chunks.push(chunk));
                response.on('end', () => {
                    const answer = Buffer.concat(chunks);
                    if ((response.statusCode ?? 0) >= 300) {
                        reject(new Error(`${peer.name} answered ${response.statusCode}: ${answer.toString('utf8').slice(0, 300)}`));
                    } else {
                        resolve(answer);
                    }
                });
                response.on('error', reject);
            });
            request.on('timeout', () => request.destroy(new Error(`${peer.name} did not answer within ${this.timeoutMs / 1000} s`)));
            request.on('error', reject);
            request.end(body ? Buffer.from(body) : undefined);
        });
    }
}

/**
 * A node's reconciliation of missing private data, as Fabric's: now and then it asks the other
 * members of each collection for content it should hold but does not, checks it against the
 * committed hash and keeps it; content sent ahead of a transaction that never committed is
 * purged once no block can take the transaction any more.
 */
export class PrivateDataReconciler {
    private timer?: NodeJS.Timeout;
    private running?: Promise<void>;

    constructor(private readonly options: Readonly<{
        pool: Pool; namespace: string; self: string; client: PrivateDataClient; members: ReadonlyMap<string, readonly string[]>;
        intervalMs: number; pendingTtlMs: number; log?: (message: string) => void;
    }>) {}

    start(): void {
        const tick = (): void => {
            this.running = this.runOnce().then(() => undefined, (error: Error) => this.options.log?.(`private data reconciliation failed: ${error.message}`)).finally(() => {
                this.timer = setTimeout(tick, this.options.intervalMs);
                this.timer.unref();
            });
        };
        tick();
    }

    /** One pass: every missing item asked for once; answers how many were fetched. */
    async runOnce(): Promise<number> {
        const { pool, namespace } = this.options;
        await pool.query('DELETE FROM private_pending WHERE received_at < now() - make_interval(secs => $1::float8)', [this.options.pendingTtlMs / 1000]);
        const missing = await pool.query<{ collection: string; key: Buffer; sha256: Buffer }>(
            'SELECT collection, key, sha256 FROM private_missing WHERE namespace = $1::text ORDER BY block_number, tx_index LIMIT 200', [namespace]);
        let fetched = 0;
        for (const item of missing.rows) {
            const content = await this.options.client.fetch(item.collection, item.key, item.sha256, this.options.members.get(item.collection) ?? [], this.options.self);
            if (content) {
                fetched += await fillMissing(pool, namespace, item.sha256, content, { collection: item.collection, key: item.key });
            }
        }
        if (fetched > 0) {
            this.options.log?.(`private data: fetched ${fetched} missing item(s) from other members`);
        }
        return fetched;
    }

    async stop(): Promise<void> {
        clearTimeout(this.timer);
        await this.running;
        clearTimeout(this.timer);
    }
}
