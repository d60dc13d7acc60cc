import { featureBit, VIRTIO_F_IN_ORDER, VIRTIO_F_RING_PACKED } from '@vnic/core';
import { Testpmd } from '@vnic/cli';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DeviceTapSide, nextEvent } from './DeviceTapSide.ts';
import { peerMissing, socketDir } from './peerSupport.ts';

// vnic serve (@vnic/vhost-user-device) with PACKED rings: DPDK testpmd's net_virtio_user frontend
// with packed_vq=1 and in_order=1 negotiates RING_PACKED and VIRTIO_F_IN_ORDER (vnic's queues hand
// buffers back in the order they were made available, TX runs as one used descriptor, which DPDK's
// in-order TX clean-up expands); frames injected on the tap
// go through vnic's PackedQueue into testpmd's RX ring, come back with the MACs swapped through its
// TX ring, and leave on the tap again, intact.

const skip = peerMissing(Testpmd.ensure());
const sockets = socketDir();
afterAll(() => sockets.remove());

describe.skipIf(skip)('vhost-user device: DPDK testpmd virtio_user with packed_vq=1', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('negotiates RING_PACKED and IN_ORDER and loops frames tap -> testpmd (macswap) -> tap intact, 64 and 1514 bytes', async () => {
    const sock = sockets.path('dev-packed.sock');
    const side = DeviceTapSide.create({ socket: sock, allowUnsealedMemory: true });
    cleanup.push(() => side.close());
    const negotiated = nextEvent(side.server, 'negotiated');
    const started = nextEvent(side.server, 'rings-started', 15_000, (info: { rx: boolean; tx: boolean }) => info.rx && info.tx);
    side.server.start();
    const pmd = await Testpmd.start({ socket: sock, role: 'virtio-user', forwardMode: 'macswap', devArgs: 'packed_vq=1,in_order=1' });
    cleanup.push(() => pmd.stop());
    const [info] = (await negotiated) as [{ features: bigint }];
    expect(info.features & featureBit(VIRTIO_F_RING_PACKED)).not.toBe(0n);
    expect(info.features & featureBit(VIRTIO_F_IN_ORDER)).not.toBe(0n);
    await started;
    await pmd.waitForwarding();
    await side.waitForwarding();
    // More frames than the ring has descriptors: the packed ring goes round several laps.
    for (let batch = 0; batch < 24; batch++) await side.macswapRoundTrip(batch * 32, 32);
    await side.macswapRoundTrip(5000, 16, 1514);
    const [rx0, tx0] = side.server.stats();
    expect(rx0!.packets).toBeGreaterThanOrEqual(24 * 32 + 16);
    expect(tx0!.packets).toBeGreaterThanOrEqual(24 * 32 + 16);
    expect(rx0!.malformed + tx0!.malformed).toBe(0);
  }, 90_000);
});
