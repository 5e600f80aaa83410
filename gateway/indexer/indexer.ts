import type { Pool, PoolClient } from 'pg';
import { AGENCIES } from '@counterfoil/chaincode';
import type { Ledger, LedgerBlock, LedgerEvent } from '../ledger';
import { ALL_AGENCIES, audienceOf } from './audience';
import { project } from './projections';

const CHECKPOINT = 'ledger';

export interface IndexerStatus {
    /** The last block whose events are all in the query tables (-1 before the first). */
    readonly blockNumber: bigint;
    readonly ledgerHeight: bigint;
    /** Blocks committed on the ledger that the query tables do not reflect yet. */
    readonly lagBlocks: number;
}

/**
 * Follows the ledger block by block into PostgreSQL: a block's rows, its events in the event log
 * (with webhook deliveries for their subscribers) and the checkpoint commit in one transaction,
 * so a restart resumes exactly after the last block committed, and replaying one changes nothing.
 */
export class Indexer {
    private running?: Promise<void>;
    private blocks?: ReturnType<Ledger['blocks']>;
    private stopped = false;
    private applied = -1n;
    private readonly waiters = new Set<{ blockNumber: bigint; resolve: () => void }>();
    private lastError?: Error;
    private readonly listeners = new Set<(blockNumber: bigint) => void>();

    constructor(private readonly ledger: Ledger, private readonly pool: Pool, private readonly onError: (error: Error) => void = () => undefined) {}

    async start(): Promise<void> {
        this.applied = await this.checkpoint();
        this.running = this.loop();
    }

    async stop(): Promise<void> {
        this.stopped = true;
        this.blocks?.close();
        await this.running;
        for (const waiter of this.waiters) {
            waiter.resolve();
        }
    }

    /** Calls `listener` after each block is in the query tables; returns the unsubscribe function. */
    onIndexed(listener: (blockNumber: bigint) => void): () => void {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }

    /** Resolves once every event up to and including `blockNumber` is in the query tables. */
    caughtUp(blockNumber: bigint, timeoutMs = 10_000): Promise<void> {
        if (this.applied >= blockNumber) {
            return Promise.resolve();
        }
        return new Promise((resolve, reject) => {
            const waiter = { blockNumber, resolve: () => { clearTimeout(timer); resolve(); } };
            const timer = setTimeout(() => {
                this.waiters.delete(waiter);
                reject(new Error(`the indexer has not reached block ${blockNumber} within ${timeoutMs} ms`));
            }, timeoutMs);
            this.waiters.add(waiter);
        });
    }

    async status(): Promise<IndexerStatus> {
        const info = await this.ledger.info();
        return { blockNumber: this.applied, ledgerHeight: info.height, lagBlocks: Math.max(0, Number(info.height - 1n - this.applied)) };
    }

    get error(): Error | undefined {
        return this.lastError;
    }

    private async checkpoint(): Promise<bigint> {
        const result = await this.pool.query<{ block_number: string }>('SELECT block_number FROM indexer_checkpoint WHERE name = $1::text', [CHECKPOINT]);
        const row = result.rows[0];
        return row ? BigInt(row.block_number) : -1n;
    }

    private async loop(): Promise<void> {
        while (!this.stopped) {
            try {
                this.blocks = this.ledger.blocks(this.applied + 1n);
                for await (const block of this.blocks) {
                    await this.apply(block);
                }
                // The stream ended without a stop (the ledger closed under it): look again shortly.
                if (!this.stopped) {
                    await new Promise((resolve) => setTimeout(resolve, 1000));
                }
            } catch (error) {
                if (this.stopped) {
                    return;
                }
                this.lastError = error as Error;
                this.onError(error as Error);
                await new Promise((resolve) => setTimeout(resolve, 1000));
            }
        }
    }

    private async apply(block: LedgerBlock): Promise<void> {
        const client = await this.pool.connect();
        try {
            await client.query('BEGIN');
            for (const [index, transaction] of block.transactions.entries()) {
                if (transaction.validationCode !== 'VALID' || !transaction.event) {
                    continue;
                }
                const event: LedgerEvent = {
                    blockNumber: block.number, transactionId: transaction.transactionId, transactionIndex: index,
                    timestamp: transaction.timestamp, name: transaction.event.name, payload: transaction.event.payload,
                };
                await this.applyEvent(client, event);
            }
            await client.query(
                `INSERT INTO indexer_checkpoint (name, block_number, updated_at) VALUES ($1::text, $2::bigint, now())
                 ON CONFLICT (name) DO UPDATE SET block_number = EXCLUDED.block_number, updated_at = now()`,
                [CHECKPOINT, block.number.toString()]);
            await client.query('COMMIT');
        } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
        } finally {
            client.release();
        }
        this.applied = block.number;
        for (const listener of this.listeners) {
            listener(block.number);
        }
        for (const waiter of this.waiters) {
            if (this.applied >= waiter.blockNumber) {
                this.waiters.delete(waiter);
                waiter.resolve();
            }
        }
    }

    private async applyEvent(client: PoolClient, event: LedgerEvent): Promise<void> {
        const payload = JSON.parse(Buffer.from(event.payload).toString('utf8')) as unknown;
        await project(client, event, payload);
        const audience = event.name === 'CaseMessageAdded'
            ? await caseParties(client, (payload as { caseId: string }).caseId)
            : audienceOf(event.name, payload);
        const inserted = await client.query<{ sequence: string }>(
            `INSERT INTO ledger_events (block_number, transaction_id, tx_index, name, occurred_at, payload, audience)
             VALUES ($1::bigint, $2::text, $3::integer, $4::text, $5::timestamptz, $6::jsonb, $7::text[])
             ON CONFLICT (transaction_id) DO NOTHING RETURNING sequence`,
            [event.blockNumber.toString(), event.transactionId, event.transactionIndex, event.name, event.timestamp, JSON.stringify(payload), audience]);
        const sequence = inserted.rows[0]?.sequence;
        if (sequence !== undefined) {
            // Each subscription that may see the event gets a delivery, in the same transaction.
            await client.query(
                `INSERT INTO webhook_deliveries (webhook_id, event_sequence)
                 SELECT id, $1::bigint FROM webhooks
                  WHERE deleted_at IS NULL AND ($2::text = ANY (events) OR '*' = ANY (events))
                    AND (sees_all OR party = ANY ($3::text[]) OR ($4::text = ANY ($3::text[]) AND party = ANY ($5::text[])))`,
                [sequence, event.name, audience, ALL_AGENCIES, AGENCIES]);
        }
    }
}

async function caseParties(client: PoolClient, caseId: string): Promise<string[]> {
    const result = await client.query<{ parties: string[] }>('SELECT parties FROM cases WHERE case_id = $1::text', [caseId]);
    return result.rows[0]?.parties ?? [];
}
