import type { Pool, PoolClient } from 'pg';
import { LedgerError, type LedgerHistory, type StoredBlock } from '../ledger';
import { keysetPages } from '../postgres/pages';
import { inTransaction } from '../postgres/transaction';
import { Statement } from '../postgres/statement';
import { StateCache } from './state-cache';
import { StateReads } from './state-reads';
import { type Block, type BlockData, type ChannelConfig, type KeyWrite, type MetadataWrite, stateId, type Version } from './blocks';

export interface StateEntry {
    readonly key: string;
    readonly value: Buffer;
    readonly version: Version;
}

export interface HistoryEntry {
    readonly transactionId: string;
    readonly timestamp: string;
    readonly isDelete: boolean;
    readonly value: Buffer;
}

export interface PrivateWrite {
    readonly collection: string;
    readonly key: string;
    /** undefined for a delete (or for content withheld from the party executing). */
    readonly value?: Buffer;
    /**
     * The SHA-256 (hex) of content written from a withheld transient value: the executing party
     * does not hold it, and receives it (or not, outside the collection) apart from the block.
     */
    readonly withheld?: string;
}

/** Everything a committed block changes, written in one database transaction. */
export interface BlockCommit {
    /** Absent for a CometBFT height without transactions: only the consensus state moves. */
    readonly block?: Block;
    readonly bytes?: Buffer;
    /** On a network node: the CometBFT height this commit completes and the app hash answered for it. */
    readonly consensus?: { readonly height: number; readonly appHash: string };
    readonly transactions: readonly {
        readonly transactionId: string;
        readonly txIndex: number;
        readonly validationCode: string;
        readonly timestamp: string;
        /** Only for valid transactions. */
        readonly writes: readonly KeyWrite[];
        readonly metadataWrites: readonly MetadataWrite[];
        readonly privateWrites: readonly PrivateWrite[];
    }[];
}


const key = (value: string): Buffer => Buffer.from(value, 'utf8');

/** The PostgreSQL notification channel on which each committed block's number is announced. */
export const BLOCKS_CHANNEL = 'counterfoil_blocks';

type Queryable = Pool | PoolClient;

/**
 * The embedded ledger's tables: one query per method, parameterised, explicit casts. The
 * ledger's own store keeps recently used world state in a cache that its committer keeps current
 * (see StateCache); any other reader (an audit in another process) leaves the cache empty.
 */
export class LedgerStore implements LedgerHistory {
    private readonly reads: StateReads;

    constructor(private readonly pool: Pool, readonly namespace: string, private readonly cache = new StateCache(0)) {
        this.reads = new StateReads(pool, cache);
    }

    async getState(namespace: string, stateKey: string): Promise<StateEntry | undefined> {
        const id = stateId(namespace, stateKey);
        const cached = this.cache.get(id);
        const entry = cached === undefined ? await this.reads.read(id) : cached;
        return entry ? { key: stateKey, ...entry } : undefined;
    }

    /** A block has been committed: the cache takes its writes. */
    committed(block: Block): void {
        this.cache.apply(block);
    }

    /** Whether a block was committed is not known: cached state is read from the database again. */
    forgetCachedState(): void {
        this.cache.clear();
    }

    async getValidationParameter(namespace: string, stateKey: string): Promise<Buffer | undefined> {
        const result = await this.pool.query<{ validation_parameter: Buffer | null }>(
            'SELECT validation_parameter FROM world_state WHERE namespace = $1::text AND key = $2::bytea',
            [namespace, key(stateKey)],
        );
        return result.rows[0]?.validation_parameter ?? undefined;
    }

    /**
     * Versions of many keys at once, for validating a block's reads, from the cache where it holds
     * them and otherwise from the database. Keys are `namespace\u0001key`.
     */
    async versions(wanted: readonly { namespace: string; key: string }[], queryable: Queryable = this.pool): Promise<Map<string, Version>> {
        const found = new Map<string, Version>();
        const entries: { namespace: string; key: string }[] = [];
        for (const entry of wanted) {
            const id = stateId(entry.namespace, entry.key);
            const cached = this.cache.get(id);
            if (cached === undefined) {
                entries.push(entry);
            } else if (cached) {
                found.set(id, cached.version);
            }
        }
        if (entries.length === 0) {
            return found;
        }
        const result = await queryable.query<{ namespace: string; key: Buffer; block_number: string; tx_index: number }>(
            `SELECT w.namespace, w.key, w.block_number, w.tx_index
               FROM world_state w
               JOIN unnest($1::text[], $2::bytea[]) AS wanted (namespace, key) ON w.namespace = wanted.namespace AND w.key = wanted.key`,
            [entries.map((entry) => entry.namespace), entries.map((entry) => key(entry.key))],
        );
        for (const row of result.rows) {
            found.set(stateId(row.namespace, row.key.toString('utf8')), { blockNumber: Number(row.block_number), txIndex: row.tx_index });
        }
        return found;
    }

    /** Keys in [startKey, endKey) in bytewise order; an empty endKey means no upper bound. */
    async range(namespace: string, startKey: string, endKey: string, limit: number, queryable: Queryable = this.pool): Promise<StateEntry[]> {
        const result = await queryable.query<{ key: Buffer; value: Buffer; block_number: string; tx_index: number }>(
            `SELECT key, value, block_number, tx_index FROM world_state
              WHERE namespace = $1::text AND key >= $2::bytea AND ($3::bytea = ''::bytea OR key < $3::bytea)
              ORDER BY key LIMIT $4::integer`,
            [namespace, key(startKey), key(endKey), limit],
        );
        return result.rows.map((row) => ({
            key: row.key.toString('utf8'), value: row.value, version: { blockNumber: Number(row.block_number), txIndex: row.tx_index },
        }));
    }

    async history(namespace: string, stateKey: string): Promise<HistoryEntry[]> {
        const result = await this.pool.query<{ transaction_id: string; timestamp: string; is_delete: boolean; value: Buffer | null }>(
            `SELECT transaction_id, timestamp, is_delete, value FROM key_history
              WHERE namespace = $1::text AND key = $2::bytea ORDER BY block_number DESC, tx_index DESC`,
            [namespace, key(stateKey)],
        );
        return result.rows.map((row) => ({ transactionId: row.transaction_id, timestamp: row.timestamp, isDelete: row.is_delete, value: row.value ?? Buffer.alloc(0) }));
    }

    /** A private data value this party holds; UNAVAILABLE while it is written but not received yet. */
    async getPrivate(collection: string, stateKey: string): Promise<Buffer | undefined> {
        const result = await this.pool.query<{ value: Buffer | null; missing: boolean }>(
            `SELECT value, false AS missing FROM private_state WHERE namespace = $1::text AND collection = $2::text AND key = $3::bytea
             UNION ALL
             SELECT NULL, true FROM private_missing WHERE namespace = $1::text AND collection = $2::text AND key = $3::bytea`,
            [this.namespace, collection, key(stateKey)],
        );
        const row = result.rows[0];
        if (row?.missing) {
            throw new LedgerError({
                code: 'UNAVAILABLE', field: 'content',
                message: `this node has not received the content of ${collection} yet (it was away when it was sent): it is fetching it from another member of the collection`,
            });
        }
        return row?.value ?? undefined;
    }

    async transactionExists(transactionIds: readonly string[], queryable: Queryable = this.pool): Promise<Set<string>> {
        const result = await queryable.query<{ transaction_id: string }>(
            'SELECT transaction_id FROM ledger_transactions WHERE transaction_id = ANY($1::text[])',
            [transactionIds],
        );
        return new Set(result.rows.map((row) => row.transaction_id));
    }

    /** A network node's last committed CometBFT height and app hash (hex), if it has committed one. */
    async consensusState(): Promise<{ height: number; appHash: string } | undefined> {
        const result = await this.pool.query<{ height: string; app_hash: Buffer }>('SELECT height, app_hash FROM consensus_state');
        const row = result.rows[0];
        return row ? { height: Number(row.height), appHash: row.app_hash.toString('hex') } : undefined;
    }

    async lastBlock(): Promise<StoredBlock | undefined> {
        const [last] = await this.storedBlocks('ORDER BY number DESC LIMIT 1', []);
        return last;
    }

    async blocks(fromNumber: number, limit: number): Promise<StoredBlock[]> {
        return this.storedBlocks('WHERE number >= $1::bigint ORDER BY number LIMIT $2::integer', [fromNumber, limit]);
    }

    /**
     * Stored blocks, their data read as text: PostgreSQL sends a block's bytes as they are, where
     * a bytea column travels as hexadecimal text twice their size that the client decodes again
     * (a fifth of a replay's time on its main thread). Bytes that are not UTF-8 (a block
     * tampered with: every node writes UTF-8 JSON) are refused as text; then they are read as
     * bytes, so that the auditor sees exactly what is stored.
     */
    private async storedBlocks(condition: string, values: unknown[]): Promise<StoredBlock[]> {
        const select = (data: string): Promise<{ rows: RawBlock[] }> => this.pool.query<RawBlock>(
            `SELECT number, previous_hash, data_hash, header_hash, ${data} AS data FROM ledger_blocks ${condition}`, values);
        let result;
        try {
            result = await select("convert_from(data, 'UTF8')");
        } catch (error) {
            if ((error as { code?: string }).code !== INVALID_BYTE_SEQUENCE) {
                throw error;
            }
            result = await select('data');
        }
        return result.rows.map(fromRaw);
    }

    async blockOfTransaction(transactionId: string): Promise<{ blockNumber: number; validationCode: string } | undefined> {
        const result = await this.pool.query<{ block_number: string; validation_code: string }>(
            'SELECT block_number, validation_code FROM ledger_transactions WHERE transaction_id = $1::text', [transactionId],
        );
        const row = result.rows[0];
        return row ? { blockNumber: Number(row.block_number), validationCode: row.validation_code } : undefined;
    }

    async authorities(): Promise<{ mspId: string; certificate: string; privateKey: string }[]> {
        const result = await this.pool.query<{ msp_id: string; certificate: string; private_key: string }>('SELECT msp_id, certificate, private_key FROM msp_authorities ORDER BY msp_id');
        return result.rows.map((row) => ({ mspId: row.msp_id, certificate: row.certificate, privateKey: row.private_key }));
    }

    /** Replaces an authority's stored private key (sealing one stored before keys were sealed). */
    async replaceAuthorityKey(mspId: string, stored: string, replacement: string): Promise<void> {
        await this.pool.query('UPDATE msp_authorities SET private_key = $3::text WHERE msp_id = $1::text AND private_key = $2::text', [mspId, stored, replacement]);
    }

    /** Creates the authorities and block 0 together, so a ledger is either wholly created or not at all. */
    async createGenesis(authorities: readonly { mspId: string; certificate: string; privateKey: string }[], genesis: { block: Block; bytes: Buffer }): Promise<void> {
        await this.inTransaction(async (client) => {
            for (const authority of authorities) {
                await client.query('INSERT INTO msp_authorities (msp_id, certificate, private_key) VALUES ($1::text, $2::text, $3::text)', [authority.mspId, authority.certificate, authority.privateKey]);
            }
            const statement = new Statement();
            statement.part(blockInsert(statement, genesis.block, genesis.bytes));
            await statement.run(client);
        });
    }

    /**
     * Writes a block and every state change of its valid transactions in one statement (each part
     * a data-modifying WITH query), so the block is atomic without a transaction of its own and
     * costs a single round trip.
     */
    async commit(client: PoolClient, commit: BlockCommit): Promise<void> {
        const { block, bytes } = commit;
        const statement = new Statement();
        if (commit.consensus) {
            statement.part(`INSERT INTO consensus_state (singleton, height, app_hash)
                VALUES (true, ${statement.value(commit.consensus.height, 'bigint')}, ${statement.value(Buffer.from(commit.consensus.appHash, 'hex'), 'bytea')})
                ON CONFLICT (singleton) DO UPDATE SET height = EXCLUDED.height, app_hash = EXCLUDED.app_hash`);
        }
        if (!block || !bytes) {
            await statement.run(client);
            return;
        }
        const number = block.header.number;
        const upserts = new Map<string, { namespace: string; key: string; value: Buffer; txIndex: number; parameter: Buffer | null }>();
        const deletes = new Map<string, { namespace: string; key: string }>();
        const history: { namespace: string; key: string; txIndex: number; transactionId: string; isDelete: boolean; value: Buffer | null; timestamp: string }[] = [];
        const metadata = new Map<string, { namespace: string; key: string; parameter: Buffer }>();
        const privates = new Map<string, PrivateWrite & { txIndex: number }>();
        for (const transaction of commit.transactions) {
            for (const write of transaction.writes) {
                const id = stateId(write.namespace, write.key);
                const value = write.isDelete ? null : Buffer.from(write.value ?? '', 'base64');
                if (value === null) {
                    upserts.delete(id);
                    deletes.set(id, { namespace: write.namespace, key: write.key });
                } else {
                    deletes.delete(id);
                    upserts.set(id, { namespace: write.namespace, key: write.key, value, txIndex: transaction.txIndex, parameter: null });
                }
                history.push({
                    namespace: write.namespace, key: write.key, txIndex: transaction.txIndex, transactionId: transaction.transactionId,
                    isDelete: write.isDelete, value, timestamp: transaction.timestamp,
                });
            }
            for (const write of transaction.metadataWrites) {
                metadata.set(stateId(write.namespace, write.key), { namespace: write.namespace, key: write.key, parameter: Buffer.from(write.validationParameter, 'base64') });
            }
            for (const write of transaction.privateWrites) {
                privates.set(stateId(write.collection, write.key), { ...write, txIndex: transaction.txIndex });
            }
        }
        // One statement may change a row only once: a key's policy travels with its upsert, a
        // deleted key's policy goes with it, and only the remaining keys' policies are updates.
        for (const [id, write] of metadata) {
            const upsert = upserts.get(id);
            if (upsert) {
                upsert.parameter = write.parameter;
            }
            if (upsert || deletes.has(id)) {
                metadata.delete(id);
            }
        }
        statement.part(blockInsert(statement, block, bytes));
        // A duplicate stays in the block, marked invalid, but the id keeps pointing at its first use.
        const indexed = commit.transactions.filter((transaction) => transaction.validationCode !== 'DUPLICATE_TXID');
        if (indexed.length > 0) {
            statement.part(`INSERT INTO ledger_transactions (transaction_id, block_number, tx_index, validation_code)
                SELECT id, ${statement.value(number, 'bigint')}, tx_index, code
                  FROM unnest(${statement.value(indexed.map((t) => t.transactionId), 'text[]')}, ${statement.value(indexed.map((t) => t.txIndex), 'integer[]')},
                              ${statement.value(indexed.map((t) => t.validationCode), 'text[]')}) AS t (id, tx_index, code)`);
        }
        if (deletes.size > 0) {
            const rows = [...deletes.values()];
            statement.part(`DELETE FROM world_state w USING unnest(${statement.value(rows.map((row) => row.namespace), 'text[]')}, ${statement.value(rows.map((row) => key(row.key)), 'bytea[]')}) AS gone (namespace, key)
                WHERE w.namespace = gone.namespace AND w.key = gone.key`);
        }
        if (upserts.size > 0) {
            const rows = [...upserts.values()];
            statement.part(`INSERT INTO world_state (namespace, key, value, block_number, tx_index, validation_parameter)
                SELECT namespace, key, value, ${statement.value(number, 'bigint')}, tx_index, parameter
                  FROM unnest(${statement.value(rows.map((row) => row.namespace), 'text[]')}, ${statement.value(rows.map((row) => key(row.key)), 'bytea[]')},
                              ${statement.value(rows.map((row) => row.value), 'bytea[]')}, ${statement.value(rows.map((row) => row.txIndex), 'integer[]')},
                              ${statement.value(rows.map((row) => row.parameter), 'bytea[]')}) AS w (namespace, key, value, tx_index, parameter)
                ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, block_number = EXCLUDED.block_number, tx_index = EXCLUDED.tx_index,
                   validation_parameter = COALESCE(EXCLUDED.validation_parameter, world_state.validation_parameter)`);
        }
        if (metadata.size > 0) {
            const rows = [...metadata.values()];
            statement.part(`UPDATE world_state w SET validation_parameter = m.parameter
                FROM unnest(${statement.value(rows.map((row) => row.namespace), 'text[]')}, ${statement.value(rows.map((row) => key(row.key)), 'bytea[]')},
                            ${statement.value(rows.map((row) => row.parameter), 'bytea[]')}) AS m (namespace, key, parameter)
                WHERE w.namespace = m.namespace AND w.key = m.key`);
        }
        if (history.length > 0) {
            statement.part(`INSERT INTO key_history (namespace, key, block_number, tx_index, transaction_id, is_delete, value, timestamp)
                SELECT namespace, key, ${statement.value(number, 'bigint')}, tx_index, transaction_id, is_delete, value, timestamp
                  FROM unnest(${statement.value(history.map((row) => row.namespace), 'text[]')}, ${statement.value(history.map((row) => key(row.key)), 'bytea[]')},
                              ${statement.value(history.map((row) => row.txIndex), 'integer[]')}, ${statement.value(history.map((row) => row.transactionId), 'text[]')},
                              ${statement.value(history.map((row) => row.isDelete), 'boolean[]')}, ${statement.value(history.map((row) => row.value), 'bytea[]')},
                              ${statement.value(history.map((row) => row.timestamp), 'text[]')}) AS h (namespace, key, tx_index, transaction_id, is_delete, value, timestamp)
                ON CONFLICT DO NOTHING`);
        }
        const privateRows = [...privates.values()];
        // Content withheld from this party, in a collection it belongs to: missing until fetched.
        const privateMissing = privateRows.filter((write) => write.withheld !== undefined);
        // A delete, or a value withheld: either way, a value held before is no longer the key's.
        const privateDeletes = privateRows.filter((write) => write.value === undefined);
        const privateUpserts = privateRows.filter((write) => write.value !== undefined);
        /** Removes the rows of these collections' keys from one of the private data tables. */
        const forget = (table: 'private_missing' | 'private_state', writes: readonly PrivateWrite[]): void => {
            if (writes.length > 0) {
                statement.part(`DELETE FROM ${table} p
                    USING unnest(${statement.value(writes.map((write) => write.collection), 'text[]')}, ${statement.value(writes.map((write) => key(write.key)), 'bytea[]')}) AS gone (collection, key)
                    WHERE p.namespace = ${statement.value(this.namespace, 'text')} AND p.collection = gone.collection AND p.key = gone.key`);
            }
        };
        forget('private_missing', privateRows);
        if (privateMissing.length > 0) {
            statement.part(`INSERT INTO private_missing (namespace, collection, key, sha256, block_number, tx_index)
                SELECT ${statement.value(this.namespace, 'text')}, collection, key, sha256, ${statement.value(number, 'bigint')}, tx_index
                  FROM unnest(${statement.value(privateMissing.map((write) => write.collection), 'text[]')}, ${statement.value(privateMissing.map((write) => key(write.key)), 'bytea[]')},
                              ${statement.value(privateMissing.map((write) => Buffer.from(write.withheld as string, 'hex')), 'bytea[]')},
                              ${statement.value(privateMissing.map((write) => write.txIndex), 'integer[]')}) AS p (collection, key, sha256, tx_index)`);
        }
        // Content sent ahead of these transactions is settled, kept or not, with their block.
        statement.part(`DELETE FROM private_pending WHERE transaction_id = ANY(${statement.value(commit.transactions.map((transaction) => transaction.transactionId), 'text[]')})`);
        forget('private_state', privateDeletes);
        if (privateUpserts.length > 0) {
            statement.part(`INSERT INTO private_state (namespace, collection, key, value, block_number, tx_index)
                SELECT ${statement.value(this.namespace, 'text')}, collection, key, value, ${statement.value(number, 'bigint')}, tx_index
                  FROM unnest(${statement.value(privateUpserts.map((write) => write.collection), 'text[]')}, ${statement.value(privateUpserts.map((write) => key(write.key)), 'bytea[]')},
                              ${statement.value(privateUpserts.map((write) => write.value), 'bytea[]')}, ${statement.value(privateUpserts.map((write) => write.txIndex), 'integer[]')}) AS p (collection, key, value, tx_index)
                ON CONFLICT (namespace, collection, key) DO UPDATE SET value = EXCLUDED.value, block_number = EXCLUDED.block_number, tx_index = EXCLUDED.tx_index`);
        }
        // Readers in other processes (a network gateway's) wake when the block is durable.
        await statement.run(client, `SELECT pg_notify('${BLOCKS_CHANNEL}', ${statement.value(String(number), 'text')})`);
    }

    inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
        return inTransaction(this.pool, work);
    }

    /** Every row of the ledger's public world state, for comparing against a replay. */
    async allState(): Promise<Map<string, { value: string; version: Version }>> {
        const all = new Map<string, { value: string; version: Version }>();
        for await (const page of this.statePages()) {
            for (const [id, entry] of page) {
                all.set(id, entry);
            }
        }
        return all;
    }

    /** The stored world state in key order, a page at a time: a large state is never held whole. */
    async *statePages(size = 5000): AsyncGenerator<[string, { value: string; version: Version }][]> {
        type Row = { namespace: string; key: Buffer; value: Buffer; block_number: string; tx_index: number };
        const pages = keysetPages<Row>(size, async (after) => (await this.pool.query<Row>(
            `SELECT namespace, key, value, block_number, tx_index FROM world_state
              WHERE $1::text IS NULL OR (namespace, key) > ($1::text, $2::bytea)
              ORDER BY namespace, key LIMIT $3::integer`,
            [after?.namespace ?? null, after?.key ?? null, size],
        )).rows);
        for await (const rows of pages) {
            yield rows.map((row) => [
                stateId(row.namespace, row.key.toString('utf8')),
                { value: row.value.toString('base64'), version: { blockNumber: Number(row.block_number), txIndex: row.tx_index } },
            ]);
        }
    }
}

/** PostgreSQL's error for bytes that are not valid in the encoding asked for. */
const INVALID_BYTE_SEQUENCE = '22021';

interface RawBlock {
    number: string;
    previous_hash: Buffer;
    data_hash: Buffer;
    header_hash: Buffer;
    data: string | Buffer;
}

function fromRaw(row: RawBlock): StoredBlock {
    return { number: Number(row.number), previousHash: row.previous_hash, dataHash: row.data_hash, headerHash: row.header_hash, data: row.data };
}

/** The part of a statement that stores a block. */
function blockInsert(statement: Statement, block: Block, bytes: Buffer): string {
    return `INSERT INTO ledger_blocks (number, previous_hash, data_hash, header_hash, data)
        VALUES (${statement.value(block.header.number, 'bigint')}, ${statement.value(Buffer.from(block.header.previousHash, 'hex'), 'bytea')},
                ${statement.value(Buffer.from(block.header.dataHash, 'hex'), 'bytea')}, ${statement.value(Buffer.from(block.hash, 'hex'), 'bytea')}, ${statement.value(bytes, 'bytea')})`;
}

/**
 * A stored block's data, checked to have the shape every reader relies on: stored bytes are
 * evidence to be checked, not trusted (an altered or forged block must be reported, not crash
 * its reader). Throws when the data is not JSON of that shape.
 */
export function parseBlockData(bytes: Buffer | string): BlockData {
    const data = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8')) as unknown;
    if (!isObject(data) || !(data.kind === 'config' ? isConfig(data.config) : data.kind === 'transactions' && Array.isArray(data.transactions) && data.transactions.every(isTransaction))) {
        throw new Error('the block data is not of the shape of a block');
    }
    return data as BlockData;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const allOf = (value: unknown, check: (item: unknown) => boolean): boolean => Array.isArray(value) && value.every(check);
const isKeyed = (value: unknown): value is Record<string, unknown> => isObject(value) && isString(value.namespace) && isString(value.key);

function isConfig(value: unknown): boolean {
    return isObject(value) && isString(value.channel) && isString(value.chaincode)
        && allOf(value.organisations, (entry) => isObject(entry) && isString(entry.mspId) && isString(entry.rootCertificate))
        && allOf(value.collections, (entry) => isObject(entry) && isString(entry.name) && allOf(entry.members, isString));
}

function isTransaction(value: unknown): boolean {
    if (!isObject(value) || !isString(value.transactionId) || !isString(value.signature) || !isString(value.validationCode)) {
        return false;
    }
    const { proposal, readWriteSet, response, event } = value;
    return isObject(proposal) && isObject(proposal.creator) && isString(proposal.creator.mspId) && isString(proposal.creator.certificate)
        && isString(proposal.nonce) && isString(proposal.timestamp) && isString(proposal.channel) && isString(proposal.chaincode)
        && isString(proposal.contract) && isString(proposal.transaction) && allOf(proposal.arguments, isString) && isObject(proposal.transientHashes)
        && isObject(response) && isString(response.payload)
        && (event === undefined || (isObject(event) && isString(event.name) && isString(event.payload)))
        && isObject(readWriteSet)
        && allOf(readWriteSet.reads, isKeyed)
        && allOf(readWriteSet.writes, (write) => isKeyed(write) && typeof write.isDelete === 'boolean')
        && allOf(readWriteSet.metadataWrites, isKeyed)
        && allOf(readWriteSet.rangeReads, (range) => isObject(range) && isString(range.namespace) && isString(range.startKey) && isString(range.endKey)
            && allOf(range.results, isObject));
}

export type { ChannelConfig };

export type { StoredBlock };
