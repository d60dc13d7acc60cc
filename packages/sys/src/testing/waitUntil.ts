/**
 * Polls `cond` every 5 ms until it holds; rejects with "timed out waiting for `what`" after
 * `timeoutMs`. For tests that wait for a condition instead of sleeping.
 */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
