import type { Principal } from '../auth/principal';
import { Problem } from './problem';

/**
 * A token bucket per principal: `perMinute` requests a minute on average, bursts up to the same
 * number. Held in memory: each gateway instance limits what it serves.
 */
export class RateLimiter {
    private readonly buckets = new Map<string, { tokens: number; at: number }>();

    constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

    take(principal: Principal): void {
        const key = `${principal.org}\u0000${principal.subject}\u0000${principal.uscc ?? ''}`;
        const time = this.now();
        const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: time };
        bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((time - bucket.at) / 60_000) * this.perMinute);
        bucket.at = time;
        if (bucket.tokens < 1) {
            this.buckets.set(key, bucket);
            const retryAfterSeconds = Math.ceil(((1 - bucket.tokens) / this.perMinute) * 60);
            throw new Problem('RATE_LIMITED', `more than ${this.perMinute} requests a minute from ${principal.subject}@${principal.org}`, 'authorization', { retryAfterSeconds });
        }
        bucket.tokens -= 1;
        this.buckets.set(key, bucket);
        if (this.buckets.size > 100_000) {
            this.buckets.clear(); // a flood of distinct principals must not grow memory without bound
        }
    }
}
