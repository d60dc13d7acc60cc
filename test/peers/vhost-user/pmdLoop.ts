import type { VirtioNetDriver } from '@vnic/driver';
import { OUTSIDE_MAC, frameSeq, isTestFrame, testFrame } from '../../conformance/frames.ts';

/** The frame testpmd's macswap sends back: destination and source MACs exchanged. */
export function swapped(f: Uint8Array): Uint8Array {
  const out = f.slice();
  out.set(f.subarray(6, 12), 0);
  out.set(f.subarray(0, 6), 6);
  return out;
}

/**
 * Sends `count` test frames (sizes 60..1459) on `queuePair` and collects the test frames that come
 * back on the same pair within `timeoutMs`. Returns what was sent and what came back.
 */
export async function macswapRoundTrip(
  driver: VirtioNetDriver,
  mac: Uint8Array,
  seq0: number,
  count: number,
  queuePair = 0,
  timeoutMs = 5000,
): Promise<{ sent: Uint8Array[]; got: Uint8Array[] }> {
  const sent = Array.from({ length: count }, (_, i) => testFrame(OUTSIDE_MAC, mac, seq0 + i, 60 + ((i * 97) % 1400)));
  for (const f of sent) {
    if (!driver.send(f, { queuePair })) {
      await driver.flushTx(queuePair);
      driver.send(f, { queuePair });
    }
  }
  const got: Uint8Array[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    const r = await driver.receive(queuePair, Math.max(1, Math.min(500, deadline - Date.now())));
    if (r !== undefined && isTestFrame(r.frame) && frameSeq(r.frame) >= seq0) got.push(r.frame);
  }
  driver.reclaim(queuePair);
  return { sent, got };
}

/** Hex of each frame, for readable diffs. */
export function hexAll(frames: readonly Uint8Array[]): string[] {
  return frames.map((f) => Buffer.from(f).toString('hex'));
}

/**
 * Sends probe frames (seq 0, which macswapRoundTrip never counts) every few ms until one comes
 * back. DPDK logs "virtio is now ready" a moment before its vhost PMD queues to the port (the port's
 * link-state event still has to run), and frames sent in that moment are dropped, as a NIC drops
 * frames while its link comes up; a guest's retransmission covers it, this covers it for tests.
 */
export async function awaitFlowing(driver: VirtioNetDriver, mac: Uint8Array, queuePair = 0, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const probe = testFrame(OUTSIDE_MAC, mac, 0, 64);
  while (Date.now() < deadline) {
    driver.send(probe, { queuePair });
    for (let r = await driver.receive(queuePair, 5); r !== undefined; r = driver.tryReceive(queuePair)) {
      if (isTestFrame(r.frame) && frameSeq(r.frame) === 0) {
        driver.reclaim(queuePair);
        return;
      }
    }
  }
  throw new Error(`no probe frame came back on queue pair ${queuePair} within ${timeoutMs} ms`);
}
