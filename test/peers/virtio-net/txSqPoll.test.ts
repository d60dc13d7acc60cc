import { sqPollThreads } from '@vnic/sys';
import { cleanupAfterEach, fdCount, hostTapPeer, uniqueName, waitUntil } from '@vnic/sys/testing';
import { VirtioNetDriver } from '@vnic/driver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { frameSeq } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { txToTap } from '../../fixtures/txToTap.ts';

// TX through an SQPOLL io_uring (`txSqPoll: true`): the tap writes run on a kernel SQ thread of
// the process (`iou-sqp-<pid>`). Every frame a guest sends must reach the tap intact, exactly
// once; while the NIC is active its IO thread has that kernel thread, and once the NIC is closed
// neither the ring's fd nor the kernel thread nor the tap is left.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x0c, 0x01);
const FRAMES = 2000;
/** Frame sizes cycle through these (runts of 60 bytes up to full 1514-byte frames). */
const SIZES = [60, 64, 128, 333, 1000, 1514];
/** Frames sent and not yet read from the packet socket, at most. */
const WINDOW = 64;

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: TX on a kernel SQ thread (txSqPoll) with a real tap', () => {
  const cleanups = cleanupAfterEach(afterEach);

  it('every frame arrives once and intact, no drop; the SQ thread, the ring fd and the tap are gone after close', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const threadsBefore = sqPollThreads();
    const ringsBefore = fdCount.anonInodes('io_uring');
    const tap = uniqueName('vnsq');
    const nic = TapNetns.create(netConfig('virtio-net', { id: 'vnt-sqpoll', mac: MAC, ctrlVq: false }), {
      packetSocket: true,
      options: { tap, txSqPoll: true },
    });
    cleanups.push(() => nic.close());
    const driver = await VirtioNetDriver.create({ device: nic.device });
    cleanups.push(() => driver.close());
    // The IO thread's TX ring is on a kernel SQ thread (it takes its iou-sqp name just after it starts).
    await waitUntil(() => sqPollThreads() > threadsBefore, 'the kernel SQ thread to appear');
    expect(sqPollThreads()).toBe(threadsBefore + 1);
    const heap0 = await nic.device.ioHeapAllocatedBytes(); // the IO thread answers a `heap` request (baseline)
    // At most WINDOW frames unread: the packet socket's receive buffer must not overflow.
    const { got, expected } = await txToTap(driver, nic.sock!, MAC, FRAMES, SIZES, WINDOW);
    expect(got.length, 'frames the tap received').toBe(FRAMES);
    const seqs = got.map(frameSeq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    for (const f of got) {
      const s = frameSeq(f);
      expect(Buffer.compare(Buffer.from(f), Buffer.from(expected(s))), `frame ${s}`).toBe(0);
    }
    await vi.waitFor(() => expect(nic.device.stats()[1]!.packets).toBe(FRAMES), { timeout: 3000 });
    expect(nic.device.stats()[1]!.drops).toBe(0);
    const heap1 = await nic.device.ioHeapAllocatedBytes();
    expect(typeof heap0).toBe('number');
    expect(heap1! - heap0!).toBeGreaterThan(0); // the thread's JS ran in between: some bytes at least

    await driver.close();
    const ns = nic.ns;
    await nic.device.close();
    expect(fdCount.anonInodes('io_uring')).toBe(ringsBefore); // the TX ring is closed with the NIC
    expect(ns.exec('ip', '-o', 'link', 'show')).not.toContain(tap); // the tap went with close(), in the namespace still there
    await waitUntil(() => sqPollThreads() === threadsBefore, 'the kernel SQ thread to exit');
  });
});
