import { readdirSync, readFileSync } from 'node:fs';
import { fdCount, hostTapPeer, uniqueName } from '@vnic/sys/testing';
import { VirtioNetDriver } from '@vnic/driver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { frameSeq } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { txToTap } from '../../fixtures/txToTap.ts';

// TX through the default io_uring: the IO thread's ring has the tap as its fixed file (no fd
// lookup per SQE). Frames arrive intact, and when the NIC closes the ring lets go of the tap at
// once (IORING_UNREGISTER_FILES before the ring closes): the tap interface is gone when close()
// returns, not when a kernel worker gets round to the ring.

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

describe.skipIf(peer.skip)('virtio-net backend: io_uring TX with the tap as a fixed file, with a real tap', () => {
  let nic: TapNetns | undefined;
  let driver: VirtioNetDriver | undefined;

  afterEach(async () => {
    await driver?.close();
    await nic?.close();
    driver = undefined;
    nic = undefined;
  });

  it('frames arrive once and intact through the fixed file; after close the ring is closed and the tap is gone', async () => {
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
    // The TX ring of the IO thread (one more ring with a registered file): the tap.
    expect(ringUserFiles().filter((c) => c === 1).length).toBeGreaterThan(registeredBefore);

    await driver.close();
    driver = undefined;
    const ns = n.ns;
    await n.device.close();
    expect(fdCount.anonInodes('io_uring')).toBe(ringsBefore);
    expect(ns.exec('ip', '-o', 'link', 'show')).not.toContain(tap); // gone with close(): the ring no longer holds it
  });
});
