/**
 * The clock of the rate limiters: integer milliseconds, the same in every thread (the process's
 * time origin plus the thread's monotonic performance.now()), so the main thread (a run-time
 * change) and the IO threads (the data plane) can share one bucket. A reading that goes backwards
 * across threads by a fraction of a ms earns no tokens (TokenBucket ignores time going back).
 */
export function rateClockMs(): number {
  return Math.floor(performance.timeOrigin + performance.now());
}
