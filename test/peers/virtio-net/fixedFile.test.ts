import { readdirSync, readFileSync } from 'node:fs';
import { fdCount, hostTapPeer, uniqueName, waitUntil } from '@vnic/sys/testing';
import { VirtioNetDriver } from '@vnic/driver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { txToTap } from '../../fixtures/txToTap.ts';

// TX and RX through the default io_uring: the queue pair's TX ring and its RX ring each have the
// tap as their fixed file (no fd lookup per SQE). Frames arrive intact both ways, and when the NIC
// closes the rings let go of the tap at once (IORING_UNREGISTER_FILES before each ring closes):
// the tap interface is gone when close() returns, not when a kernel worker gets round to a ring.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x0c, 0x02);
const FRAMES = 500;
const SIZES = [60, 64, 333, 1514];
/** Frames sent and not yet read from the packet socket, at most. */
const WINDOW = 64;

/** The registered-file count of every io_uring fd of this process (`UserFiles:` of its fdinfo). */
function ringUserFiles(): number[] {
  const counts: number[] = [];
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const m = /^UserFiles:\s*(\d+)/m.exec(info);
    if (m !== null) counts.push(Number(m[1]));
  }
  return counts;
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: io_uring TX and RX with the tap as a fixed file, with a real tap', () => {
  let nic: TapNetns | undefined;
  let driver: VirtioNetDriver | undefined;

  afterEach(async () => {
    await driver?.close();
    await nic?.close();
    driver = undefined;
    nic = undefined;
  });

  it('frames arrive once and intact through the fixed file both ways; after close the rings are closed and the tap is gone', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const ringsBefore = fdCount.anonInodes('io_uring');
    const registeredBefore = ringUserFiles().filter((n) => n > 0).length;
    const tap = uniqueName('vnff');
    nic = TapNetns.create(netConfig('virtio-net', { id: 'vnt-fixed', mac: MAC, ctrlVq: false }), { packetSocket: true, options: { tap } });
    driver = await VirtioNetDriver.create({ device: nic.device });
    const n = nic;
    const { got, expected } = await txToTap(driver, n.sock!, MAC, FRAMES, SIZES, WINDOW);
    expect(got.length, 'frames the tap received').toBe(FRAMES);
    expect(got.map(frameSeq).sort((x, y) => x - y)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    for (const f of got) {
      const s = frameSeq(f);
      expect(Buffer.compare(Buffer.from(f), Buffer.from(expected(s))), `frame ${s}`).toBe(0);
    }
    await vi.waitFor(() => expect(n.device.stats()[1]!.packets).toBe(FRAMES), { timeout: 3000 });
    expect(n.device.stats()[1]!.drops).toBe(0);
    // The pair's TX ring and its RX ring: two more rings with one registered file each, the tap.
    expect(ringUserFiles().filter((c) => c === 1).length).toBe(registeredBefore + 2);

    // RX: frames from the namespace read through the RX ring's fixed file, intact and in order.
    const rxFrames = Array.from({ length: 40 }, (_, i) => testFrame(MAC, OUTSIDE_MAC, i, SIZES[i % SIZES.length]!));
    const received: Uint8Array[] = [];
    let sent = 0;
    await waitUntil(
      () => {
        while (sent < rxFrames.length && sent - received.length < WINDOW) n.send(rxFrames[sent++]!);
        for (let f = driver!.tryReceive(); f !== undefined; f = driver!.tryReceive()) if (isTestFrame(f.frame)) received.push(f.frame);
        return received.length >= rxFrames.length;
      },
      'the 40 RX frames in the guest',
      10_000,
    );
    expect(received.map(frameSeq)).toEqual(rxFrames.map(frameSeq));
    for (const [i, f] of received.entries()) expect(Buffer.compare(Buffer.from(f), Buffer.from(rxFrames[i]!)), `RX frame ${i}`).toBe(0);
    expect(n.device.stats()[0]!.drops).toBe(0);

    await driver.close();
    driver = undefined;
    const ns = n.ns;
    await n.device.close();
    expect(fdCount.anonInodes('io_uring')).toBe(ringsBefore);
    expect(ns.exec('ip', '-o', 'link', 'show')).not.toContain(tap); // gone with close(): the ring no longer holds it
  });
});
