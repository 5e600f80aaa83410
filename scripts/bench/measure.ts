/** How the benchmarks measure: closed and open loops, percentiles, and what each process used. */
import { readdirSync, readFileSync } from 'node:fs';

export interface Latencies {
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
}

export interface LoopResult {
    /** Operations completed, and the transactions they committed. */
    readonly operations: number;
    readonly transactions: number;
    readonly seconds: number;
    readonly transactionsPerSecond: number;
    readonly operationsPerSecond: number;
    /** Milliseconds per operation (open loop: from when it was due, so waiting counts). */
    readonly latencyMs: Latencies;
    readonly errors: number;
}

/** `part` as a share of `whole`, to two decimals. */
export function ratio(part: number, whole: number): number {
    return Math.round((part / Math.max(whole, 1)) * 100) / 100;
}

/** Nearest-rank percentiles of a list of milliseconds. */
export function percentiles(values: readonly number[]): Latencies {
    if (values.length === 0) {
        return { p50: 0, p95: 0, p99: 0, max: 0 };
    }
    const sorted = [...values].sort((left, right) => left - right);
    const at = (share: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] as number;
    const round = (value: number): number => Math.round(value * 10) / 10;
    return { p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(sorted.at(-1) as number) };
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

function summary(operations: number, transactionsPerOperation: number, milliseconds: number, latencies: number[], errors: number): LoopResult {
    const seconds = milliseconds / 1000;
    return {
        operations, transactions: operations * transactionsPerOperation, seconds: Math.round(seconds * 10) / 10,
        transactionsPerSecond: Math.round((operations * transactionsPerOperation) / seconds),
        operationsPerSecond: Math.round((operations / seconds) * 10) / 10,
        latencyMs: percentiles(latencies), errors,
    };
}

/**
 * Closed loop: `clients` each run `operation` back to back for `seconds`; the throughput is what
 * the system gives when every client waits for its answer before asking again.
 */
export async function closedLoop(
    clients: number, seconds: number, transactionsPerOperation: number, operation: (client: number, sequence: number) => Promise<void>,
): Promise<LoopResult> {
    const latencies: number[] = [];
    let errors = 0;
    let sequence = 0;
    const started = now();
    const end = started + seconds * 1000;
    await Promise.all(Array.from({ length: clients }, async (_, client) => {
        while (now() < end) {
            const began = now();
            try {
                await operation(client, sequence++);
                latencies.push(now() - began);
            } catch {
                errors++;
            }
        }
    }));
    return summary(latencies.length, transactionsPerOperation, now() - started, latencies, errors);
}

/**
 * Open loop: operations start at a fixed rate for `seconds`, whether or not earlier ones have
 * finished (as arrivals from many independent callers would); latency counts from when each was
 * due. At most `maxInFlight` run at once, beyond which the rate is not reachable.
 */
export async function openLoop(
    perSecond: number, seconds: number, transactionsPerOperation: number, operation: (sequence: number) => Promise<void>, maxInFlight = 2000,
): Promise<LoopResult & { readonly offeredPerSecond: number; readonly reachable: boolean }> {
    const latencies: number[] = [];
    const running = new Set<Promise<void>>();
    let errors = 0;
    let reachable = true;
    const started = now();
    const total = Math.round(perSecond * seconds);
    for (let sequence = 0; sequence < total; sequence++) {
        const due = started + (sequence * 1000) / perSecond;
        const wait = due - now();
        if (wait > 1) {
            await new Promise((resolve) => setTimeout(resolve, wait));
        }
        if (running.size >= maxInFlight) {
            reachable = false;
            await Promise.race(running);
        }
        const task = operation(sequence).then(() => { latencies.push(now() - due); }, () => { errors++; }).finally(() => running.delete(task));
        running.add(task);
    }
    await Promise.all(running);
    const result = summary(latencies.length, transactionsPerOperation, now() - started, latencies, errors);
    // Behind by more than a tenth of the run: the system did not keep up with the offered rate.
    return { ...result, offeredPerSecond: perSecond, reachable: reachable && result.operationsPerSecond >= perSecond * 0.9 };
}

export interface Usage {
    /** This process: resident memory (MB) and CPU (percent of one core) over the measured span. */
    readonly benchmarkRssMb: number;
    readonly benchmarkCpuPercent: number;
    /** PostgreSQL's processes together: proportional memory (PSS, MB; older results hold RSS summed over processes), and CPU (percent of one core). */
    readonly postgresRssMb: number;
    readonly postgresCpuPercent: number;
}

/** Clock ticks a second in /proc's CPU times (USER_HZ: 100 on Linux whatever the kernel's own rate). */
const TICKS_PER_SECOND = 100;

/**
 * What PostgreSQL's processes used, from /proc: CPU seconds of those alive, plus those of the
 * backends that ended meanwhile (counted in the postmaster's children's times once it reaped
 * them), and their proportional memory (shared buffers counted once across processes, not once
 * per process).
 */
function postgresUsage(): { seconds: number; pssKb: number } {
    let ticks = 0;
    let pssKb = 0;
    for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const found = processStat(entry);
            if (found?.name !== 'postgres') {
                continue;
            }
            // After the name: state, ppid, …; utime, stime, cutime, cstime are fields 14 to 17.
            const [utime, stime, cutime, cstime] = found.fields.slice(11, 15) as [number, number, number, number];
            ticks += utime + stime + (processStat(String(found.fields[1]))?.name === 'postgres' ? 0 : cutime + cstime);
            pssKb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
        } catch {
            // a process that ended while it was read
        }
    }
    return { seconds: ticks / TICKS_PER_SECOND, pssKb };
}

/** A process's name and the numeric fields of /proc/<pid>/stat after it (from its state on); undefined once it has ended. */
function processStat(pid: string): { name: string; fields: number[] } | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        return { name: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ').map(Number) };
    } catch {
        return undefined;
    }
}

/** Runs `work` and says what this process and PostgreSQL used meanwhile. */
export async function withUsage<T>(work: () => Promise<T>): Promise<{ result: T; usage: Usage }> {
    const cpu = process.cpuUsage();
    const pgBefore = postgresUsage();
    const started = now();
    const result = await work();
    const elapsed = (now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const pgAfter = postgresUsage();
    return {
        result,
        usage: {
            benchmarkRssMb: Math.round(process.memoryUsage().rss / 1048576),
            benchmarkCpuPercent: Math.round(((used.user + used.system) / 1e6 / elapsed) * 100),
            postgresRssMb: Math.round(pgAfter.pssKb / 1024),
            postgresCpuPercent: Math.round(((pgAfter.seconds - pgBefore.seconds) / elapsed) * 100),
        },
    };
}
