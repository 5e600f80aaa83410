import type { Pool, PoolClient } from 'pg';
import { LedgerError } from '../ledger';

const LEDGER_LOCK = 'counterfoil-embedded-ledger';
/** How long the writer keeps trying to get its connection back before failing a block. */
const RECONNECT_FOR_MS = 60_000;

/**
 * The committer's own connection to PostgreSQL, holding the advisory lock that makes it the one
 * writer of this ledger. If the connection is lost (PostgreSQL restarted), it reconnects and takes
 * the lock again — unless another process took it meanwhile, which ends this writer.
 */
export class WriterSession {
    private current?: PoolClient;
    private broken = false;
    private closed = false;

    private constructor(private readonly pool: Pool) {}

    static async open(pool: Pool): Promise<WriterSession> {
        const session = new WriterSession(pool);
        await session.connect();
        return session;
    }

    /** A connection that holds the lock, reconnecting first if the last one was lost. */
    async client(): Promise<PoolClient> {
        if (this.current && !this.broken) {
            return this.current;
        }
        const deadline = Date.now() + RECONNECT_FOR_MS;
        for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
            if (this.closed) {
                throw new LedgerError({ code: 'UNAVAILABLE', message: 'the ledger is closed' });
            }
            try {
                await this.connect();
                return this.current as PoolClient;
            } catch (error) {
                if (error instanceof LedgerError || Date.now() > deadline) {
                    throw error instanceof LedgerError ? error : new LedgerError({ code: 'UNAVAILABLE', message: 'the ledger lost its database and could not reconnect', cause: error });
                }
                await new Promise((resolve) => setTimeout(resolve, delay));
            }
        }
    }

    /** True when the connection still answers; false marks it lost, for `client()` to replace. */
    async healthy(): Promise<boolean> {
        if (!this.current || this.broken) {
            return false;
        }
        try {
            await this.current.query('SELECT 1');
            return true;
        } catch {
            this.markBroken();
            return false;
        }
    }

    async close(): Promise<void> {
        this.closed = true;
        const client = this.current;
        this.current = undefined;
        if (client && !this.broken) {
            await client.query('SELECT pg_advisory_unlock(hashtext($1::text))', [LEDGER_LOCK]).catch(() => undefined);
            client.release();
        } else {
            client?.release(true);
        }
    }

    private async connect(): Promise<void> {
        this.current?.release(true);
        this.current = undefined;
        const client = await this.pool.connect();
        // A lost connection surfaces here, not as an unhandled error; the next block reconnects.
        client.on('error', () => this.markBroken());
        try {
            const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1::text)) AS locked', [LEDGER_LOCK]);
            if (!locked.rows[0]?.locked) {
                throw new LedgerError({ code: 'UNAVAILABLE', message: 'another process is already running this embedded ledger' });
            }
        } catch (error) {
            client.release(true);
            throw error;
        }
        this.current = client;
        this.broken = false;
    }

    private markBroken(): void {
        this.broken = true;
    }
}
