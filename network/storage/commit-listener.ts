import { EventEmitter } from 'node:events';
import { Client, type Pool } from 'pg';
import { BLOCKS_CHANNEL } from './store';

/** How often a listener looks anyway, in case a notification was missed while it reconnected. */
const SAFETY_POLL_MS = 2000;

/**
 * Wakes readers in another process than the one committing (a network gateway reading its
 * node's database): each commit announces its block number on a PostgreSQL channel, and this
 * emits `committed` for each. A lost connection is replaced; a poll covers what it may miss.
 * Emits `close` when closed, as the embedded committer's emitter does.
 */
export class CommitListener extends EventEmitter {
    private client?: Client;
    private closed = false;
    private readonly timer: NodeJS.Timeout;

    private constructor(private readonly pool: Pool) {
        super();
        this.setMaxListeners(0);
        this.timer = setInterval(() => this.emit('committed'), SAFETY_POLL_MS);
        this.timer.unref();
    }

    static async open(pool: Pool): Promise<CommitListener> {
        const listener = new CommitListener(pool);
        await listener.connect();
        return listener;
    }

    private async connect(): Promise<void> {
        const client = new Client((this.pool as unknown as { options: ConstructorParameters<typeof Client>[0] }).options);
        client.on('notification', (message) => this.emit('committed', Number(message.payload)));
        client.on('error', () => {
            void client.end().catch(() => undefined);
            if (this.client === client) {
                this.client = undefined;
                this.reconnect();
            }
        });
        await client.connect();
        await client.query(`LISTEN ${BLOCKS_CHANNEL}`);
        if (this.closed) {
            await client.end();
            return;
        }
        this.client = client;
        this.emit('committed');
    }

    private reconnect(): void {
        if (this.closed) {
            return;
        }
        setTimeout(() => this.connect().catch(() => this.reconnect()), 500).unref();
    }

    async close(): Promise<void> {
        this.closed = true;
        clearInterval(this.timer);
        this.emit('close');
        await this.client?.end().catch(() => undefined);
        this.client = undefined;
    }
}
