/** The outcome of a peer check: `reason` says what is missing; `skip` is true only off CI. */
export interface PeerCheck {
  /** What is missing (undefined when the peer is here). */
  readonly reason: string | undefined;
  /** True when the tests should skip: the peer is missing and `CI` is not set. */
  readonly skip: boolean;
}

/** True when the `CI` environment variable is set to anything but the empty string. */
export function underCi(): boolean {
  return (process.env['CI'] ?? '') !== '';
}

/**
 * The one "needs a peer" rule of vnic's tests. `reason` is why the peer (a tap, testpmd, a test VM,
 * a host without vhost_net, ...) is not usable here, or undefined when it is. On a developer box a
 * missing peer skips with the reason printed; under CI (`CI` set) it throws, so the test file fails
 * loudly instead of passing silently. Use: `describe.skipIf(needsPeer('tap tests', why).skip)(...)`.
 */
export function needsPeer(label: string, reason: string | undefined): PeerCheck {
  if (reason === undefined) return { reason, skip: false };
  if (underCi()) throw new Error(`${label}: the peer is missing under CI: ${reason}`);
  console.warn(`[${label}] skipped: ${reason}`);
  return { reason, skip: true };
}
