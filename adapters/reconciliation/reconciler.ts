import { createHash } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { CaseReason } from '@counterfoil/chaincode';
import { type ConflictRetry, LedgerError, type Ledger, type SigningIdentity, submitRetryingConflicts } from '../../network/ledger';
import { migrate } from '../../network/postgres';
import { CLASS_OF_STATUS, type Discrepancy, type DiscrepancyClass, OFF_LEDGER_CLASSES, unconfirmedTransfers } from './discrepancies';
import { offLedgerCounts, reconciliationSchema } from './migrations';
import { inKeyOrder } from '../ordered';

const CASE_REASON: Readonly<Partial<Record<DiscrepancyClass, CaseReason>>> = {
    NOT_DELIVERED: 'NOT_RECEIVED', NOT_ACKNOWLEDGED: 'OTHER', CONTENT_MISMATCH: 'CONTENT_MISMATCH', REJECTED: 'DATA_ERROR',
};

const PAGE = 500;
/** Cases opened or closed at once: each waits for its block. */
const CASES_AT_ONCE = 16;

export interface RunReport {
    readonly trigger: string;
    readonly startedAt: string;
    readonly finishedAt: string;
    /** Overdue discrepancies looked at. */
    readonly examined: number;
    readonly opened: number;
    readonly closed: number;
    readonly failures: number;
    /**
     * Overdue discrepancies the ledger has no handoff for (never recorded, recipient only): listed
     * among the unconfirmed transfers, with no case, as a case needs its handoff on the ledger.
     */
    readonly offLedger: number;
}

/** One case per discrepancy: the id is derived from the class and the handoff, so opening it again is harmless. */
export function caseIdFor(discrepancyClass: DiscrepancyClass, sender: string, messageId: string): string {
    return `REC-${discrepancyClass}-${createHash('sha256').update(`${sender}\u0000${messageId}`).digest('hex').slice(0, 32)}`;
}

export type ReconcilerOptions = Readonly<{
    ledger: Ledger;
    pool: Pool;
    /** The hub's reconciliation identity (role `reconciler`). */
    identity: () => Promise<SigningIdentity>;
    logger: Logger;
    /** Called with each run's report (metrics, push). */
    onRun?: (report: RunReport) => void;
    /** How often a transaction that lost a read conflict is endorsed again (default: the gateway's). */
    conflictRetry?: ConflictRetry;
    /**
     * The organisations this hub acts for: only the transfers they send are reconciled here (on
     * the network each agency's gateway surfaces the transfers it sent that were not confirmed,
     * so that each case is opened by its sender). Default: every sender's.
     */
    senders?: readonly string[];
}>;

/**
 * Turns every transfer past its deadline into a case, exactly one per discrepancy, and closes the
 * case by itself when the missing confirmation arrives. Runs on a schedule and on demand; runs
 * never overlap (a request during a run gets that run's report).
 */
export class Reconciler {
    private running?: Promise<RunReport>;
    private task?: ScheduledTask;

    private constructor(private readonly options: ReconcilerOptions) {}

    static async create(options: ReconcilerOptions): Promise<Reconciler> {
        await migrate(options.pool, 'reconciliation', [reconciliationSchema, offLedgerCounts]);
        return new Reconciler(options);
    }

    /** Runs on a cron schedule (e.g. every minute: `* * * * *`). */
    schedule(expression: string): void {
        if (!cron.validate(expression)) {
            throw new Error(`reconciliation schedule "${expression}" is not a cron expression`);
        }
        this.task = cron.schedule(expression, async () => {
            await this.run('schedule').catch((error: unknown) => this.options.logger.error({ err: error }, 'reconciliation run failed'));
        }, { noOverlap: true, name: 'reconciliation' });
    }

    run(trigger: string): Promise<RunReport> {
        this.running ??= this.reconcile(trigger).finally(() => {
            this.running = undefined;
        });
        return this.running;
    }

    async stop(): Promise<void> {
        await this.task?.destroy();
        await this.running?.catch(() => undefined);
    }

    private async reconcile(trigger: string): Promise<RunReport> {
        const startedAt = new Date().toISOString();
        const identity = await this.options.identity();
        let examined = 0;
        let opened = 0;
        let failures = 0;
        let offLedger = 0;
        let after: readonly [string, string, string] | undefined;
        for (;;) {
            const page = await unconfirmedTransfers(this.options.pool, { overdueOnly: true, limit: PAGE, afterKey: after, senders: this.options.senders });
            examined += page.length;
            const onLedger = page.filter((discrepancy) => !OFF_LEDGER_CLASSES.includes(discrepancy.class));
            offLedger += page.length - onLedger.length;
            // Several cases at once: each waits for its block, the more so on a network.
            await inKeyOrder(onLedger, (discrepancy) => [`${discrepancy.sender}/${discrepancy.messageId}`], CASES_AT_ONCE, async (discrepancy) => {
                try {
                    // Counted after the await: `opened += await …` would read the count before it.
                    if (await this.openCase(identity, discrepancy)) {
                        opened++;
                    }
                } catch (error) {
                    failures++;
                    this.options.logger.warn({ err: error, sender: discrepancy.sender, messageId: discrepancy.messageId }, 'could not open a reconciliation case');
                }
            });
            const last = page.at(-1);
            if (page.length < PAGE || !last) {
                break;
            }
            after = [last.sentAt, last.sender, last.messageId];
        }
        const { closed, failed } = await this.closeSettled(identity);
        failures += failed;
        const report: RunReport = { trigger, startedAt, finishedAt: new Date().toISOString(), examined, opened, closed, failures, offLedger };
        await this.options.pool.query(
            `INSERT INTO reconciliation_runs (trigger, started_at, finished_at, examined, opened, closed, failures, off_ledger)
             VALUES ($1::text, $2::timestamptz, $3::timestamptz, $4::integer, $5::integer, $6::integer, $7::integer, $8::integer)`,
            [trigger, startedAt, report.finishedAt, examined, opened, closed, failures, offLedger]);
        this.options.onRun?.(report);
        return report;
    }

    /** Opens the case for a discrepancy unless this hub already did; true when it opened one now. */
    private async openCase(identity: SigningIdentity, discrepancy: Discrepancy): Promise<boolean> {
        const caseId = caseIdFor(discrepancy.class, discrepancy.sender, discrepancy.messageId);
        const known = await this.options.pool.query('SELECT 1 FROM reconciliation_cases WHERE case_id = $1::text', [caseId]);
        if (known.rowCount !== 0) {
            return false;
        }
        await submitRetryingConflicts(this.options.ledger, {
            identity, contract: 'cases', transaction: 'Open',
            arguments: [JSON.stringify({ caseId, subject: { kind: 'HANDOFF', sender: discrepancy.sender, messageId: discrepancy.messageId }, reason: CASE_REASON[discrepancy.class] ?? 'OTHER' })],
        }, this.options.conflictRetry);
        // Recorded after the ledger accepted it; a crash in between only means Open is sent again, harmlessly.
        await this.options.pool.query(
            `INSERT INTO reconciliation_cases (case_id, class, sender, message_id) VALUES ($1::text, $2::text, $3::text, $4::text) ON CONFLICT DO NOTHING`,
            [caseId, discrepancy.class, discrepancy.sender, discrepancy.messageId]);
        return true;
    }

    /** Resolves each open reconciliation case whose handoff has moved past the discrepancy. */
    private async closeSettled(identity: SigningIdentity): Promise<{ closed: number; failed: number }> {
        const open = await this.options.pool.query<{ case_id: string; class: DiscrepancyClass; status: string | null }>(
            `SELECT r.case_id, r.class, h.status FROM reconciliation_cases r
               LEFT JOIN handoffs h ON h.sender = r.sender AND h.message_id = r.message_id
              WHERE r.closed_at IS NULL`);
        let closed = 0;
        let failed = 0;
        const settled = open.rows.filter((row) => row.status !== null && CLASS_OF_STATUS[row.status] !== row.class);
        await inKeyOrder(settled, (row) => [row.case_id], CASES_AT_ONCE, async (row) => {
            const resolution = `NOW_${row.status}`;
            try {
                await submitRetryingConflicts(this.options.ledger, {
                    identity, contract: 'cases', transaction: 'Resolve', arguments: [JSON.stringify({ caseId: row.case_id, resolutionCode: resolution })],
                }, this.options.conflictRetry);
            } catch (error) {
                // Already settled by its parties: nothing left for reconciliation to do.
                if (!(error instanceof LedgerError && error.code === 'FAILED_PRECONDITION')) {
                    failed++;
                    this.options.logger.warn({ err: error, caseId: row.case_id }, 'could not close a reconciliation case');
                    return;
                }
            }
            await this.options.pool.query('UPDATE reconciliation_cases SET closed_at = now(), resolution = $2::text WHERE case_id = $1::text', [row.case_id, resolution]);
            closed++;
        });
        return { closed, failed };
    }
}
