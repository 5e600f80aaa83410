export type UntilOptions = Readonly<{
    /** How long to wait before failing (a bound for a broken run, not a measure of speed). */
    timeoutMs?: number;
    intervalMs?: number;
    /** Added to the failure's message: the output of the processes under test, say. */
    context?: () => string;
}>;

/**
 * Waits for a condition rather than for a time: checks until `check` gives a value (anything but
 * undefined or false; a check that throws counts as not yet), then returns it.
 */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, options: UntilOptions = {}): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let lastError: unknown;
    for (;;) {
        try {
            const value = await check();
            if (value !== undefined && value !== false) {
                return value;
            }
        } catch (error) {
            lastError = error;
        }
        if (Date.now() > deadline) {
            const cause = lastError instanceof Error ? ` (last check failed: ${lastError.message})` : '';
            throw new Error(`timed out waiting for ${what}${cause}${options.context ? `\n${options.context()}` : ''}`);
        }
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
    }
}
