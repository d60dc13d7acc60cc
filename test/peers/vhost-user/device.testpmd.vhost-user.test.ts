import { featureBit, VIRTIO_F_VERSION_1 } from '@vnic/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fdCount } from '@vnic/sys/testing';
import { DeviceTapSide, nextEvent } from './DeviceTapSide.ts';
import { Testpmd } from '@vnic/cli';
import { peerMissing, socketDir } from './peerSupport.ts';

// vnic as the vhost-user BACKEND (@vnic/vhost-user-device), DPDK testpmd's net_virtio_user as the
// frontend in macswap mode: frames injected on the tap (inside a namespace) go through vnic's
// data plane into testpmd's RX ring, come back through its TX ring with the MACs swapped, and
// leave on the tap again.

const missing = Testpmd.ensure();
const skip = peerMissing(missing);
const sockets = socketDir();
afterAll(() => sockets.remove());

const memfdMappings = (): number => fdCount.mapLines().filter((l) => l.includes('/memfd:')).length;

describe.skipIf(skip)('vhost-user device: DPDK testpmd virtio_user as the frontend', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('server socket: the virtio_user port negotiates, frames loop tap -> testpmd (macswap) -> tap intact', async () => {
    const sock = sockets.path('dev-server.sock');
    const side = DeviceTapSide.create({ socket: sock, allowUnsealedMemory: true });
    cleanup.push(() => side.close());
    const negotiated = nextEvent(side.server, 'negotiated');
    const started = nextEvent(side.server, 'rings-started', 15_000, (info: { rx: boolean; tx: boolean }) => info.rx && info.tx);
    side.server.start();
    const pmd = await Testpmd.start({ socket: sock, role: 'virtio-user', forwardMode: 'macswap' });
    cleanup.push(() => pmd.stop());
    const [info] = (await negotiated) as [{ features: bigint }];
    expect(info.features & featureBit(VIRTIO_F_VERSION_1)).not.toBe(0n);
    expect(info.features & (1n << 30n)).not.toBe(0n); // VHOST_USER_F_PROTOCOL_FEATURES
    await started;
    await pmd.waitForwarding();
    await side.waitForwarding();
    for (let batch = 0; batch < 4; batch++) await side.macswapRoundTrip(batch * 32, 32);
    await side.macswapRoundTrip(1000, 16, 1514);
    const [rx0, tx0] = side.server.stats();
    expect(rx0!.packets).toBeGreaterThanOrEqual(4 * 32 + 16);
    expect(tx0!.packets).toBeGreaterThanOrEqual(4 * 32 + 16);
    expect(rx0!.malformed + tx0!.malformed).toBe(0);
  }, 60_000);

  it('client socket: testpmd listens (server=1), vnic connects and serves it', async () => {
    const sock = sockets.path('dev-client.sock');
    const side = DeviceTapSide.create({ socket: sock, client: true, allowUnsealedMemory: true });
    cleanup.push(() => side.close());
    const pmd = await Testpmd.start({ socket: sock, role: 'virtio-user', client: false, forwardMode: 'macswap' });
    cleanup.push(() => pmd.stop());
    const started = nextEvent(side.server, 'rings-started', 15_000, (info: { rx: boolean; tx: boolean }) => info.rx && info.tx);
    side.server.start();
    await started;
    await pmd.waitForwarding();
    await side.waitForwarding();
    await side.macswapRoundTrip(0, 32);
  }, 60_000);

  it('frontend killed mid-traffic (SIGKILL), twice: clean teardown, nothing leaked, the restarted frontend is served', async () => {
    const sock = sockets.path('dev-kill.sock');
    const side = DeviceTapSide.create({ socket: sock, allowUnsealedMemory: true });
    cleanup.push(() => side.close());
    side.server.start();
    const maps0 = memfdMappings();

    /** Connects a new testpmd, checks frames loop, then SIGKILLs it while frames keep arriving on the tap. */
    const connectAndKill = async (seq0: number): Promise<void> => {
      const started = nextEvent(side.server, 'rings-started', 15_000, (info: { rx: boolean; tx: boolean }) => info.rx && info.tx);
      const pmd = await Testpmd.start({ socket: sock, role: 'virtio-user', forwardMode: 'macswap' });
      cleanup.push(() => pmd.stop());
      await started;
      await pmd.waitForwarding();
      await side.waitForwarding();
      await side.macswapRoundTrip(seq0, 16);
      expect(memfdMappings()).toBeGreaterThan(maps0); // testpmd's memfds, mapped by vnic
      let seq = seq0 + 100;
      const traffic = setInterval(() => {
        try {
          side.inject(Array.from({ length: 8 }, () => DeviceTapSide.frame(seq++)));
        } catch {
          // socket buffer full while nobody reads: fine
        }
      }, 5);
      try {
        await side.collect(32);
        const disconnected = nextEvent(side.server, 'disconnected');
        await pmd.kill();
        await disconnected;
      } finally {
        clearInterval(traffic);
      }
      await new Promise((r) => setTimeout(r, 100)); // testpmd's stdio pipes close after its exit
      expect(side.server.connected).toBe(false);
    };

    await connectAndKill(0);
    expect(memfdMappings()).toBe(maps0); // the frontend's memory is unmapped
    // The first connection started the pooled IO thread (its own libuv fds): count from here.
    const fds1 = fdCount.fds();
    await connectAndKill(10_000);
    expect(memfdMappings()).toBe(maps0);
    expect(fdCount.fds()).toBe(fds1); // kick/call eventfds, the socket, the thread's control eventfd: all closed

    const started = nextEvent(side.server, 'rings-started', 15_000, (info: { rx: boolean; tx: boolean }) => info.rx && info.tx);
    const pmd3 = await Testpmd.start({ socket: sock, role: 'virtio-user', forwardMode: 'macswap' });
    cleanup.push(() => pmd3.stop());
    await started;
    await pmd3.waitForwarding();
    await side.waitForwarding();
    await side.macswapRoundTrip(50_000, 32);
    expect(side.server.connectionCount).toBe(3);
  }, 120_000);
});
