import { expect } from 'chai';
import { GATEWAY_MIGRATIONS } from '../../gateway/indexer/migrations';
import { type HandoffFilter, listHandoffs } from '../../gateway/queries/handoffs';
import { migrate } from '../../network/postgres';
import { freshDatabase, type TestDatabase } from '../support/postgres';

interface Row {
    readonly sender: string;
    readonly messageId: string;
    readonly recipient: string;
    readonly status: string;
    readonly sentAt: Date;
    readonly receiptDeadline: Date;
    readonly acknowledgementDeadline: Date | null;
}

const STATUSES = ['SENT', 'MISMATCH', 'RECEIVED', 'ACCEPTED', 'REJECTED'] as const;
const HOUR = 3_600_000;

/** The rule, written out: still owed a receipt past its deadline, or a decision past its deadline. */
function overdue(row: Row, now: number): boolean {
    return ((row.status === 'SENT' || row.status === 'MISMATCH') && row.receiptDeadline.getTime() < now)
        || (row.status === 'RECEIVED' && row.acknowledgementDeadline !== null && row.acknowledgementDeadline.getTime() < now);
}

const newestFirst = (left: Row, right: Row): number => right.sentAt.getTime() - left.sentAt.getTime()
    || (left.sender < right.sender ? 1 : left.sender > right.sender ? -1 : 0)
    || (left.messageId < right.messageId ? 1 : left.messageId > right.messageId ? -1 : 0);

describe('handoff queries over the query tables', () => {
    let database: TestDatabase;
    const rows: Row[] = [];
    // The instant the listing judges deadlines at: the rows are laid out around it, whenever the
    // suite reaches this file.
    const now = Date.parse('2026-06-15T10:00:00.000Z');

    before(async () => {
        database = await freshDatabase('handoff queries');
        await migrate(database.pool, 'gateway', GATEWAY_MIGRATIONS);
        // 120 handoffs from two senders to two recipients, in every status, some late for their
        // receipt or their decision and some not yet, several sent in the same second.
        for (let n = 0; n < 120; n++) {
            const sentAt = new Date(Math.floor(now / 1000) * 1000 - Math.floor(n / 3) * 600_000);
            rows.push({
                sender: n % 2 === 0 ? 'CustomsMSP' : 'CommerceMSP', messageId: `Q-${String(n).padStart(3, '0')}`, recipient: n % 5 < 3 ? 'TaxMSP' : 'ForexMSP',
                status: STATUSES[n % STATUSES.length] as string, sentAt,
                receiptDeadline: new Date(sentAt.getTime() + (n % 7 < 4 ? 1 : 48) * HOUR),
                acknowledgementDeadline: n % 11 < 6 ? new Date(sentAt.getTime() + 2 * HOUR) : new Date(now + 24 * HOUR),
            });
        }
        for (const row of rows) {
            await database.pool.query(
                `INSERT INTO handoffs (sender, message_id, recipient, subject, document_type, document_number, status, sent_at, receipt_deadline,
                     acknowledgement_deadline, record, transaction_id, block_number, updated_at)
                 VALUES ($1, $2, $3, '91310000000000001X', 'EXPORT_DECLARATION', $2, $4, $5, $6, $7, $8, $2, 1, now())`,
                [row.sender, row.messageId, row.recipient, row.status, row.sentAt, row.receiptDeadline, row.acknowledgementDeadline,
                    JSON.stringify({ sender: row.sender, messageId: row.messageId, recipient: row.recipient, status: row.status })]);
        }
    });

    after(async () => {
        await database.drop();
    });

    /** Every page of a filter, three at a time, as the keys and overdue flags they list. */
    async function pages(filter: Omit<HandoffFilter, 'limit' | 'cursor'>): Promise<string[]> {
        const listed: string[] = [];
        let cursor: string | undefined;
        do {
            const page = await listHandoffs(database.pool, { ...filter, limit: 3, cursor, asOf: new Date(now) });
            listed.push(...page.items.map((item) => `${item.sender}/${item.messageId}${item.overdue ? ' overdue' : ''}`));
            cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return listed;
    }

    const expected = (keep: (row: Row) => boolean): string[] => rows.filter(keep).sort(newestFirst)
        .map((row) => `${row.sender}/${row.messageId}${overdue(row, now) ? ' overdue' : ''}`);

    it('lists overdue handoffs, late for a receipt or for a decision, newest first across pages', async () => {
        const listed = await pages({ overdue: true });
        expect(listed.some((key) => rows.find((row) => key.startsWith(`${row.sender}/${row.messageId} `))?.status === 'RECEIVED')).to.equal(true);
        expect(listed.some((key) => rows.find((row) => key.startsWith(`${row.sender}/${row.messageId} `))?.status === 'SENT')).to.equal(true);
        expect(listed).to.deep.equal(expected((row) => overdue(row, now)));
    });

    it('lists the handoffs not overdue, and all of them, newest first across pages', async () => {
        expect(await pages({ overdue: false })).to.deep.equal(expected((row) => !overdue(row, now)));
        expect(await pages({})).to.deep.equal(expected(() => true));
    });

    it('combines overdue with the other filters', async () => {
        expect(await pages({ overdue: true, recipient: 'TaxMSP' })).to.deep.equal(expected((row) => overdue(row, now) && row.recipient === 'TaxMSP'));
        expect(await pages({ overdue: true, status: 'RECEIVED' })).to.deep.equal(expected((row) => overdue(row, now) && row.status === 'RECEIVED'));
        expect(await pages({ overdue: true, party: 'ForexMSP', sender: 'CommerceMSP' }))
            .to.deep.equal(expected((row) => overdue(row, now) && row.recipient === 'ForexMSP' && row.sender === 'CommerceMSP'));
        expect(await pages({ overdue: true, status: 'ACCEPTED' })).to.deep.equal([]);
    });
});
