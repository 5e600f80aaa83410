/**
 * A background worker's pause: `sleep` resolves when its time is up or when `wake` is called,
 * whichever comes first. A wake while nobody sleeps is not kept.
 */
export class Wakeup {
    private waking?: () => void;

    sleep(ms: number): Promise<void> {
        return new Promise((resolve) => {
            const timer = setTimeout(resolve, ms);
            this.waking = () => {
                clearTimeout(timer);
                resolve();
            };
        });
    }

    wake(): void {
        this.waking?.();
    }
}
