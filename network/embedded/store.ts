import type { Pool, PoolClient } from 'pg';
import type { Block, BlockData, ChannelConfig, KeyWrite, MetadataWrite, Version } from './blocks';

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
    /** undefined for a delete. */
    readonly value?: Buffer;
}

/** Everything a committed block changes, written in one database transaction. */
export interface BlockCommit {
    readonly block: Block;
    readonly bytes: Buffer;
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

export interface StoredBlock {
    readonly number: number;
    readonly previousHash: Buffer;
    readonly dataHash: Buffer;
    readonly headerHash: Buffer;
    readonly data: Buffer;
}

const key = (value: string): Buffer => Buffer.from(value, 'utf8');

/** The embedded ledger's tables: one query per method, parameterised, explicit casts. */
export class LedgerStore {
    constructor(private readonly pool: Pool, readonly namespace: string) {}

    async getState(namespace: string, stateKey: string): Promise<StateEntry | undefined> {
        const result = await this.pool.query<{ value: Buffer; block_number: string; tx_index: number }>(
            'SELECT value, block_number, tx_index FROM world_state WHERE namespace = $1::text AND key = $2::bytea',
            [namespace, key(stateKey)],
        );
        const row = result.rows[0];
        return row ? { key: stateKey, value: row.value, version: { blockNumber: Number(row.block_number), txIndex: row.tx_index } } : undefined;
    }

    async getValidationParameter(namespace: string, stateKey: string): Promise<Buffer | undefined> {
        const result = await this.pool.query<{ validation_parameter: Buffer | null }>(
            'SELECT validation_parameter FROM world_state WHERE namespace = $1::text AND key = $2::bytea',
            [namespace, key(stateKey)],
        );
        return result.rows[0]?.validation_parameter ?? undefined;
    }

    /** Versions of many keys at once, for validating a block's reads. Keys are `namespace\u0001key`. */
    async versions(client: PoolClient, entries: readonly { namespace: string; key: string }[]): Promise<Map<string, Version>> {
        const found = new Map<string, Version>();
        if (entries.length === 0) {
            return found;
        }
        const result = await client.query<{ namespace: string; key: Buffer; block_number: string; tx_index: number }>(
            `SELECT w.namespace, w.key, w.block_number, w.tx_index
               FROM world_state w
               JOIN unnest($1::text[], $2::bytea[]) AS wanted (namespace, key) ON w.namespace = wanted.namespace AND w.key = wanted.key`,
            [entries.map((entry) => entry.namespace), entries.map((entry) => key(entry.key))],
        );
        for (const row of result.rows) {
            found.set(`${row.namespace}\u0001${row.key.toString('utf8')}`, { blockNumber: Number(row.block_number), txIndex: row.tx_index });
        }
        return found;
    }

    /** Keys in [startKey, endKey) in bytewise order; an empty endKey means no upper bound. */
    async range(namespace: string, startKey: string, endKey: string, limit: number, queryable: Pool | PoolClient = this.pool): Promise<StateEntry[]> {
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

    async getPrivate(collection: string, stateKey: string): Promise<Buffer | undefined> {
        const result = await this.pool.query<{ value: Buffer }>(
            'SELECT value FROM private_state WHERE namespace = $1::text AND collection = $2::text AND key = $3::bytea',
            [this.namespace, collection, key(stateKey)],
        );
        return result.rows[0]?.value;
    }

    async transactionExists(client: PoolClient, transactionIds: readonly string[]): Promise<Set<string>> {
        const result = await client.query<{ transaction_id: string }>(
            'SELECT transaction_id FROM ledger_transactions WHERE transaction_id = ANY($1::text[])',
            [transactionIds],
        );
        return new Set(result.rows.map((row) => row.transaction_id));
    }

    async lastBlock(): Promise<StoredBlock | undefined> {
        const result = await this.pool.query<RawBlock>('SELECT number, previous_hash, data_hash, header_hash, data FROM ledger_blocks ORDER BY number DESC LIMIT 1');
        return result.rows[0] ? fromRaw(result.rows[0]) : undefined;
    }

    async blocks(fromNumber: number, limit: number): Promise<StoredBlock[]> {
        const result = await this.pool.query<RawBlock>(
            'SELECT number, previous_hash, data_hash, header_hash, data FROM ledger_blocks WHERE number >= $1::bigint ORDER BY number LIMIT $2::integer',
            [fromNumber, limit],
        );
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

    /** Creates the authorities and block 0 together, so a ledger is either wholly created or not at all. */
    async createGenesis(authorities: readonly { mspId: string; certificate: string; privateKey: string }[], genesis: { block: Block; bytes: Buffer }): Promise<void> {
        await this.inTransaction(async (client) => {
            for (const authority of authorities) {
                await client.query('INSERT INTO msp_authorities (msp_id, certificate, private_key) VALUES ($1::text, $2::text, $3::text)', [authority.mspId, authority.certificate, authority.privateKey]);
            }
            await insertBlock(client, genesis.block, genesis.bytes);
        });
    }

    /** Writes a block and every state change of its valid transactions atomically. */
    async commit(client: PoolClient, commit: BlockCommit): Promise<void> {
        const { block, bytes } = commit;
        await insertBlock(client, block, bytes);
        const number = block.header.number;
        // A duplicate stays in the block, marked invalid, but the id keeps pointing at its first use.
        const indexed = commit.transactions.filter((transaction) => transaction.validationCode !== 'DUPLICATE_TXID');
        await client.query(
            `INSERT INTO ledger_transactions (transaction_id, block_number, tx_index, validation_code)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::text[])`,
            [indexed.map((t) => t.transactionId), indexed.map(() => number), indexed.map((t) => t.txIndex), indexed.map((t) => t.validationCode)],
        );
        const upserts = new Map<string, { namespace: string; key: string; value: Buffer; txIndex: number }>();
        const deletes = new Map<string, { namespace: string; key: string }>();
        const history: { namespace: string; key: string; txIndex: number; transactionId: string; isDelete: boolean; value: Buffer | null; timestamp: string }[] = [];
        const metadata = new Map<string, { namespace: string; key: string; parameter: Buffer }>();
        const privates = new Map<string, { collection: string; key: string; value?: Buffer; txIndex: number }>();
        for (const transaction of commit.transactions) {
            for (const write of transaction.writes) {
                const id = `${write.namespace}\u0001${write.key}`;
                if (write.isDelete) {
                    upserts.delete(id);
                    deletes.set(id, { namespace: write.namespace, key: write.key });
                } else {
                    deletes.delete(id);
                    upserts.set(id, { namespace: write.namespace, key: write.key, value: Buffer.from(write.value ?? '', 'base64'), txIndex: transaction.txIndex });
                }
                history.push({
                    namespace: write.namespace, key: write.key, txIndex: transaction.txIndex, transactionId: transaction.transactionId,
                    isDelete: write.isDelete, value: write.isDelete ? null : Buffer.from(write.value ?? '', 'base64'), timestamp: transaction.timestamp,
                });
            }
            for (const write of transaction.metadataWrites) {
                metadata.set(`${write.namespace}\u0001${write.key}`, { namespace: write.namespace, key: write.key, parameter: Buffer.from(write.validationParameter, 'base64') });
            }
            for (const write of transaction.privateWrites) {
                privates.set(`${write.collection}\u0001${write.key}`, { ...write, txIndex: transaction.txIndex });
            }
        }
        if (deletes.size > 0) {
            const rows = [...deletes.values()];
            await client.query(
                `DELETE FROM world_state w USING unnest($1::text[], $2::bytea[]) AS gone (namespace, key)
                  WHERE w.namespace = gone.namespace AND w.key = gone.key`,
                [rows.map((row) => row.namespace), rows.map((row) => key(row.key))],
            );
        }
        if (upserts.size > 0) {
            const rows = [...upserts.values()];
            await client.query(
                `INSERT INTO world_state (namespace, key, value, block_number, tx_index)
                 SELECT namespace, key, value, $4::bigint, tx_index FROM unnest($1::text[], $2::bytea[], $3::bytea[], $5::integer[]) AS w (namespace, key, value, tx_index)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, block_number = EXCLUDED.block_number, tx_index = EXCLUDED.tx_index`,
                [rows.map((row) => row.namespace), rows.map((row) => key(row.key)), rows.map((row) => row.value), number, rows.map((row) => row.txIndex)],
            );
        }
        if (metadata.size > 0) {
            const rows = [...metadata.values()];
            await client.query(
                `UPDATE world_state w SET validation_parameter = m.parameter
                   FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS m (namespace, key, parameter)
                  WHERE w.namespace = m.namespace AND w.key = m.key`,
                [rows.map((row) => row.namespace), rows.map((row) => key(row.key)), rows.map((row) => row.parameter)],
            );
        }
        if (history.length > 0) {
            await client.query(
                `INSERT INTO key_history (namespace, key, block_number, tx_index, transaction_id, is_delete, value, timestamp)
                 SELECT namespace, key, $3::bigint, tx_index, transaction_id, is_delete, value, timestamp
                   FROM unnest($1::text[], $2::bytea[], $4::integer[], $5::text[], $6::boolean[], $7::bytea[], $8::text[])
                     AS h (namespace, key, tx_index, transaction_id, is_delete, value, timestamp)
                 ON CONFLICT DO NOTHING`,
                [history.map((row) => row.namespace), history.map((row) => key(row.key)), number, history.map((row) => row.txIndex),
                    history.map((row) => row.transactionId), history.map((row) => row.isDelete), history.map((row) => row.value), history.map((row) => row.timestamp)],
            );
        }
        for (const write of privates.values()) {
            if (write.value === undefined) {
                await client.query('DELETE FROM private_state WHERE namespace = $1::text AND collection = $2::text AND key = $3::bytea', [this.namespace, write.collection, key(write.key)]);
            } else {
                await client.query(
                    `INSERT INTO private_state (namespace, collection, key, value, block_number, tx_index) VALUES ($1::text, $2::text, $3::bytea, $4::bytea, $5::bigint, $6::integer)
                     ON CONFLICT (namespace, collection, key) DO UPDATE SET value = EXCLUDED.value, block_number = EXCLUDED.block_number, tx_index = EXCLUDED.tx_index`,
                    [this.namespace, write.collection, key(write.key), write.value, number, write.txIndex],
                );
            }
        }
    }

    async inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
        const client = await this.pool.connect();
        try {
            await client.query('BEGIN');
            const result = await work(client);
            await client.query('COMMIT');
            return result;
        } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
        } finally {
            client.release();
        }
    }

    /** Every row of the ledger's public world state, for comparing against a replay. */
    async allState(): Promise<Map<string, { value: string; version: Version }>> {
        const result = await this.pool.query<{ namespace: string; key: Buffer; value: Buffer; block_number: string; tx_index: number }>(
            'SELECT namespace, key, value, block_number, tx_index FROM world_state ORDER BY namespace, key',
        );
        return new Map(result.rows.map((row) => [
            `${row.namespace}\u0001${row.key.toString('utf8')}`,
            { value: row.value.toString('base64'), version: { blockNumber: Number(row.block_number), txIndex: row.tx_index } },
        ]));
    }
}

interface RawBlock {
    number: string;
    previous_hash: Buffer;
    data_hash: Buffer;
    header_hash: Buffer;
    data: Buffer;
}

function fromRaw(row: RawBlock): StoredBlock {
    return { number: Number(row.number), previousHash: row.previous_hash, dataHash: row.data_hash, headerHash: row.header_hash, data: row.data };
}

async function insertBlock(client: PoolClient, block: Block, bytes: Buffer): Promise<void> {
    await client.query(
        'INSERT INTO ledger_blocks (number, previous_hash, data_hash, header_hash, data) VALUES ($1::bigint, $2::bytea, $3::bytea, $4::bytea, $5::bytea)',
        [block.header.number, Buffer.from(block.header.previousHash, 'hex'), Buffer.from(block.header.dataHash, 'hex'), Buffer.from(block.hash, 'hex'), bytes],
    );
}

export function parseBlockData(bytes: Buffer): BlockData {
    return JSON.parse(bytes.toString('utf8')) as BlockData;
}

export type { ChannelConfig };
