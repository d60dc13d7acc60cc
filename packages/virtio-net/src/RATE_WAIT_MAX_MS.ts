/**
 * Longest a throttled direction sleeps before it looks at its buckets again, whatever the wait the
 * buckets computed: a run-time change (a higher or removed limit) is seen within this time.
 */
export const RATE_WAIT_MAX_MS = 50;
