import type { Middleware } from '../context.js';
import { HttpError } from '../http-error.js';

export interface RateLimitOptions {
  /** Requests a client may make in a burst. */
  burst: number;
  /** Sustained requests per second per client. */
  perSecond: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Token bucket per client IP: 429 with Retry-After when a client asks faster than allowed. */
export function rateLimit(options: RateLimitOptions): Middleware {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async function rateLimitMiddleware(c, next) {
    const t = now();
    if (buckets.size > 10_000) {
      for (const [ip, b] of buckets) if (t - b.at > 60_000) buckets.delete(ip);
    }
    const bucket = buckets.get(c.ip) ?? { tokens: options.burst, at: t };
    bucket.tokens = Math.min(options.burst, bucket.tokens + ((t - bucket.at) / 1000) * options.perSecond);
    bucket.at = t;
    buckets.set(c.ip, bucket);
    if (bucket.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / options.perSecond));
      throw new HttpError(429, 'too many requests', {
        hint: `at most ${options.perSecond} requests per second (bursts of ${options.burst}); retry in ${wait} s`,
        headers: { 'retry-after': String(wait) },
      });
    }
    bucket.tokens -= 1;
    await next();
  };
}
