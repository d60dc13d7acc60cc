import type { VirtioNetDriver } from '@vnic/driver';
import { expect } from 'vitest';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import type { TapBackedDevice, TapNetns } from '../../fixtures/TapNetns.ts';

/** Sends frames `from..to-1` (source `mac`) from the guest on pair 0 and checks each arrives intact on the tap. */
export async function guestToTap(nic: TapNetns<TapBackedDevice>, driver: VirtioNetDriver, mac: Uint8Array, from: number, to: number): Promise<void> {
  for (let seq = from; seq < to; seq++) expect(driver.send(testFrame(OUTSIDE_MAC, mac, seq, 60 + seq))).toBe(true);
  await driver.flushTx();
  const got = await nic.capture(to - from, isTestFrame);
  expect(got.map(frameSeq)).toEqual(range(from, to));
  for (const f of got) expect(f).toEqual(testFrame(OUTSIDE_MAC, mac, frameSeq(f), 60 + frameSeq(f)));
}

/** Injects frames `from..to-1` to `dst` on the tap and checks the guest receives each intact. */
export async function tapToGuest(nic: TapNetns<TapBackedDevice>, driver: VirtioNetDriver, dst: Uint8Array, from: number, to: number): Promise<void> {
  for (let seq = from; seq < to; seq++) nic.send(testFrame(dst, OUTSIDE_MAC, seq, 100 + seq));
  const got: number[] = [];
  while (got.length < to - from) {
    const r = await driver.receiveAny(3000);
    if (r === undefined) throw new Error(`guest received ${got.length}/${to - from} frames`);
    if (!isTestFrame(r.frame)) continue;
    const seq = frameSeq(r.frame);
    expect(r.frame).toEqual(testFrame(dst, OUTSIDE_MAC, seq, 100 + seq));
    got.push(seq);
  }
  expect(got.sort((x, y) => x - y)).toEqual(range(from, to));
}

/** from, from+1, ..., to-1. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
