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
