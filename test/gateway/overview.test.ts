import { expect } from 'chai';
import { GATEWAY_MIGRATIONS } from '../../gateway/indexer/migrations';
import { overview } from '../../gateway/queries/overview';
import { migrate } from '../../network/postgres';
import { freshDatabase, type TestDatabase } from '../support/postgres';

interface Row {
    sender: string;
    messageId: string;
    recipient: string;
    status: string;
    sentAt: Date;
    receiptDeadline: Date;
    acknowledgementDeadline: Date;
    receiptAt?: Date;
}

interface CaseRow {
    caseId: string;
    status: string;
    parties: string[];
}

const AGENCIES = ['CustomsMSP', 'CommerceMSP', 'TaxMSP', 'ForexMSP'];
const STATUSES = ['SENT', 'MISMATCH', 'RECEIVED', 'ACCEPTED', 'REJECTED', 'CANCELLED'];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A small deterministic generator, so that a failure can be run again as it was. */
function random(seed: number): () => number {
    let state = seed;
    return () => {
        state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
        return state / 2_147_483_648;
    };
}

/**
 * The overview is kept as counts by statement triggers on the query tables; here it is checked
 * against the rules written out over the rows themselves, after inserts (some before the counts
 * existed, which the migration counts), the indexer's upserts, deletes and case changes, with
 * deadlines laid around the instant it is judged at: past hours, the current hour on both sides
 * of that instant, and future hours.
 */
describe('the overview, from the counts the query tables keep', () => {
    let database: TestDatabase;
    const now = new Date('2026-06-15T10:37:20.250Z');
    const next = random(20261201);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
    const rows = new Map<string, Row>();
    const cases = new Map<string, CaseRow>();

    function handoff(index: number): Row {
        const sender = pick(AGENCIES);
        const recipient = pick(AGENCIES.filter((agency) => agency !== sender));
        const sentAt = new Date(now.getTime() - Math.floor(next() * 3 * HOUR));
        // Deadlines from three hours before the instant to two after, many in its own hour.
        const around = (): Date => new Date(next() < 0.4 ? now.getTime() - Math.floor(next() * 37 * MINUTE) + Math.floor(next() * 60 * MINUTE) : now.getTime() + Math.floor((next() - 0.6) * 5 * HOUR));
        const row: Row = { sender, messageId: `OV-${index}`, recipient, status: pick(STATUSES), sentAt, receiptDeadline: around(), acknowledgementDeadline: around() };
        return withReceipt(row);
    }

    /** A receipt for a row whose status has one; as on the ledger, a receipt recorded again is later. */
    function withReceipt(row: Row): Row {
        if (['RECEIVED', 'ACCEPTED', 'REJECTED', 'MISMATCH'].includes(row.status)) {
            const lag = next() < 0.5 ? next() * 10 : 10 + next() * 5000;
            const at = new Date(row.sentAt.getTime() + Math.round(lag * 1000));
            return { ...row, receiptAt: row.receiptAt && row.receiptAt > at ? row.receiptAt : at };
        }
        const { receiptAt: _none, ...rest } = row;
        return rest;
    }

    /** Writes rows as the indexer does: one statement, inserting or updating each. */
    async function upsert(batch: readonly Row[]): Promise<void> {
        const values: unknown[] = [];
        const tuples = batch.map((row, index) => {
            values.push(row.sender, row.messageId, row.recipient, row.status, row.sentAt, row.receiptDeadline, row.acknowledgementDeadline,
                JSON.stringify({ sender: row.sender, messageId: row.messageId, ...(row.receiptAt ? { receipt: { at: row.receiptAt.toISOString(), payloadHash: 'a'.repeat(64) } } : {}) }));
            const at = index * 8;
            return `($${at + 1}, $${at + 2}, $${at + 3}, '91310000000000001X', 'EXPORT_DECLARATION', $${at + 2}, $${at + 4}, $${at + 5}::timestamptz, $${at + 6}::timestamptz, $${at + 7}::timestamptz, $${at + 8}::jsonb, 'tx', 1, now())`;
        });
        await database.pool.query(
            `INSERT INTO handoffs (sender, message_id, recipient, subject, document_type, document_number, status, sent_at, receipt_deadline,
                 acknowledgement_deadline, record, transaction_id, block_number, updated_at)
             VALUES ${tuples.join(', ')}
             ON CONFLICT (sender, message_id) DO UPDATE SET status = EXCLUDED.status, receipt_deadline = EXCLUDED.receipt_deadline,
                 acknowledgement_deadline = EXCLUDED.acknowledgement_deadline, record = EXCLUDED.record`, values);
        for (const row of batch) {
            rows.set(`${row.sender}/${row.messageId}`, row);
        }
    }

    async function upsertCases(batch: readonly CaseRow[]): Promise<void> {
        for (const entry of batch) {
            await database.pool.query(
                `INSERT INTO cases (case_id, status, reason, parties, opened_at, record, transaction_id, block_number, updated_at)
                 VALUES ($1, $2, 'NOT_RECEIVED', $3::text[], now(), '{}', 'tx', 1, now())
                 ON CONFLICT (case_id) DO UPDATE SET status = EXCLUDED.status, parties = EXCLUDED.parties`, [entry.caseId, entry.status, entry.parties]);
            cases.set(entry.caseId, entry);
        }
    }

    before(async () => {
        database = await freshDatabase('overview counts');
        // Some handoffs and cases indexed before the counts existed: the migration counts them.
        await migrate(database.pool, 'gateway', GATEWAY_MIGRATIONS.filter((migration) => migration.id < 5));
        await upsert(Array.from({ length: 60 }, (_, index) => handoff(index)));
        await upsertCases([{ caseId: 'C-1', status: 'OPEN', parties: ['CustomsMSP', 'TaxMSP'] }, { caseId: 'C-2', status: 'RESOLVED', parties: ['CustomsMSP', 'ForexMSP'] }]);
        await migrate(database.pool, 'gateway', GATEWAY_MIGRATIONS);
        // Then the indexer's way: new rows in batches, and rows moving on (status, receipt).
        for (let batch = 0; batch < 6; batch++) {
            await upsert(Array.from({ length: 40 }, (_, index) => handoff(60 + batch * 40 + index)));
            // Statuses move every way, so that every counter goes down as well as up.
            const moving = [...rows.values()].filter(() => next() < 0.3).map((row) => withReceipt({ ...row, status: pick(STATUSES) }));
            await upsert(moving);
        }
        // Rows deleted (the ledger never removes one, but a table may be cleaned): the counts follow.
        const gone = [...rows.values()].filter((row) => row.receiptAt === undefined && next() < 0.1);
        await database.pool.query('DELETE FROM handoffs WHERE message_id = ANY($1::text[])', [gone.map((row) => row.messageId)]);
        for (const row of gone) {
            rows.delete(`${row.sender}/${row.messageId}`);
        }
        await upsertCases([
            { caseId: 'C-3', status: 'OPEN', parties: ['CommerceMSP', 'TaxMSP', '91310000000000001X'] },
            { caseId: 'C-4', status: 'OPEN', parties: ['CustomsMSP', 'ForexMSP'] },
            { caseId: 'C-1', status: 'RESOLVED', parties: ['CustomsMSP', 'TaxMSP'] },
            { caseId: 'C-5', status: 'OPEN', parties: ['CustomsMSP', 'TaxMSP'] },
        ]);
        await database.pool.query("DELETE FROM cases WHERE case_id = 'C-5'");
        cases.delete('C-5');
    });

    after(async () => {
        await database?.drop();
    });

    /** The overview by the rules, over the rows. */
    function expected(party: string | null): { pairs: Map<string, { byStatus: Record<string, number>; overdue: number; lags: number[] }>; perMinute: Map<string, number>; overdueByHour: Map<string, number>; openCases: number } {
        const pairs = new Map<string, { byStatus: Record<string, number>; overdue: number; lags: number[] }>();
        const perMinute = new Map<string, number>();
        const overdueByHour = new Map<string, number>();
        const thisHour = Math.floor(now.getTime() / HOUR) * HOUR;
        const windowStart = Math.floor((now.getTime() - HOUR) / MINUTE) * MINUTE;
        for (const row of rows.values()) {
            if (party !== null && row.sender !== party && row.recipient !== party) {
                continue;
            }
            const key = `${row.sender}→${row.recipient}`;
            const entry = pairs.get(key) ?? { byStatus: {}, overdue: 0, lags: [] };
            entry.byStatus[row.status] = (entry.byStatus[row.status] ?? 0) + 1;
            const late = ((row.status === 'SENT' || row.status === 'MISMATCH') && row.receiptDeadline < now) || (row.status === 'RECEIVED' && row.acknowledgementDeadline < now);
            entry.overdue += late ? 1 : 0;
            const waitedOn = row.status === 'SENT' || row.status === 'MISMATCH' ? row.receiptDeadline : row.status === 'RECEIVED' ? row.acknowledgementDeadline : undefined;
            const hour = waitedOn ? Math.floor(waitedOn.getTime() / HOUR) * HOUR : undefined;
            if (hour !== undefined && hour < thisHour && hour >= thisHour - 23 * HOUR) {
                const label = new Date(hour).toISOString();
                overdueByHour.set(label, (overdueByHour.get(label) ?? 0) + 1);
            }
            if (row.receiptAt) {
                entry.lags.push((row.receiptAt.getTime() - row.sentAt.getTime()) / 1000);
            }
            pairs.set(key, entry);
            const minute = Math.floor(row.sentAt.getTime() / MINUTE) * MINUTE;
            if (minute >= windowStart) {
                const label = new Date(minute).toISOString();
                perMinute.set(label, (perMinute.get(label) ?? 0) + 1);
            }
        }
        const openCases = [...cases.values()].filter((entry) => entry.status === 'OPEN' && (party === null || entry.parties.includes(party))).length;
        return { pairs, perMinute, overdueByHour, openCases };
    }

    for (const party of [null, 'TaxMSP', 'CommerceMSP']) {
        it(`matches the rules over the rows, for ${party ?? 'an auditor'}`, async () => {
            const answer = await overview(database.pool, party, now);
            const wanted = expected(party);
            expect(answer.pairs.map((pair) => `${pair.sender}→${pair.recipient}`)).to.deep.equal([...wanted.pairs.keys()].sort());
            for (const pair of answer.pairs) {
                const entry = wanted.pairs.get(`${pair.sender}→${pair.recipient}`);
                expect(pair.byStatus, `${pair.sender}→${pair.recipient}`).to.deep.equal(entry?.byStatus);
                expect(pair.overdue, `${pair.sender}→${pair.recipient} overdue`).to.equal(entry?.overdue);
                const lags = [...(entry?.lags ?? [])].sort((left, right) => left - right);
                if (lags.length === 0) {
                    expect([pair.receiptSecondsMedian, pair.receiptSecondsMax]).to.deep.equal([null, null]);
                    continue;
                }
                const lower = lags[Math.floor((lags.length - 1) / 2)] as number;
                const upper = lags[Math.ceil((lags.length - 1) / 2)] as number;
                // The median's bucket: 0.1 s wide below 10 s, 1 % above; reported to tenths.
                const slack = (value: number): number => (value < 10 ? 0.15 : value * 0.011 + 0.05);
                expect(pair.receiptSecondsMedian as number, `${pair.sender}→${pair.recipient} median`).to.be.within(lower - slack(lower), upper + slack(upper));
                const longest = lags.at(-1) as number;
                expect(pair.receiptSecondsMax as number, `${pair.sender}→${pair.recipient} max`).to.be.within(longest - slack(longest), longest + slack(longest));
            }
            expect(answer.totals.overdue).to.equal([...wanted.pairs.values()].reduce((sum, entry) => sum + entry.overdue, 0));
            expect(answer.totals.handoffs).to.equal([...wanted.pairs.values()].reduce((sum, entry) => sum + Object.values(entry.byStatus).reduce((total, count) => total + count, 0), 0));
            expect(new Map(answer.perMinute.map((entry) => [entry.minute, entry.sent]))).to.deep.equal(wanted.perMinute);
            expect(new Map(answer.overdueByHour.map((entry) => [entry.hour, entry.overdue])), 'overdue by the hour the deadline passed').to.deep.equal(wanted.overdueByHour);
            expect(answer.openCases).to.equal(wanted.openCases);
        });
    }

    it('holds as many counter rows as pairs and hours, not as handoffs', async () => {
        const counted = await database.pool.query<{ n: string }>(
            'SELECT (SELECT count(*) FROM overview_status_counts) + (SELECT count(*) FROM overview_waiting) AS n');
        expect(Number(counted.rows[0]?.n)).to.be.below(rows.size);
    });
});
