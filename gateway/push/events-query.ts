import type { Pool } from 'pg';
import { audienceTokens } from '../indexer/audience';
import type { Principal } from '../auth/principal';
import { seesEverything } from '../auth/principal';

export interface StoredEvent {
    readonly sequence: number;
    readonly name: string;
    readonly blockNumber: number;
    readonly transactionId: string;
    readonly occurredAt: string;
    readonly payload: unknown;
}

/** Events after a sequence number that a principal may see, oldest first. */
export async function eventsAfter(pool: Pool, principal: Principal, after: number, limit: number): Promise<StoredEvent[]> {
    const result = await pool.query<{ sequence: string; name: string; block_number: string; transaction_id: string; occurred_at: Date; payload: unknown }>(
        `SELECT sequence, name, block_number, transaction_id, occurred_at, payload FROM ledger_events
          WHERE sequence > $1::bigint AND ($2::boolean OR audience && $3::text[])
          ORDER BY sequence LIMIT $4::integer`,
        [after, seesEverything(principal), audienceTokens(principal), limit],
    );
    return result.rows.map((row) => ({
        sequence: Number(row.sequence), name: row.name, blockNumber: Number(row.block_number), transactionId: row.transaction_id,
        occurredAt: row.occurred_at.toISOString(), payload: row.payload,
    }));
}
