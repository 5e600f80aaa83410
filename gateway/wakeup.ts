/**
 * A background worker's pause: `sleep` resolves when its time is up or when `wake` is called,
 * whichever comes first. A wake that comes while the worker is busy is kept for its next sleep,
 * which then returns at once: a worker told to stop (or that there is work) between its last
 * look and its sleep does not sleep through it.
 */
export class Wakeup {
    private waking?: () => void;
    private woken = false;

    sleep(ms: number): Promise<void> {
        if (this.woken) {
            this.woken = false;
            return Promise.resolve();
        }
        return new Promise<void>((resolve) => {
            const done = (): void => {
                clearTimeout(timer);
                this.waking = undefined;
                resolve();
            };
            const timer = setTimeout(done, ms);
            this.waking = done;
        });
    }

    wake(): void {
        if (this.waking) {
            this.waking();
        } else {
            this.woken = true;
        }
    }
}
