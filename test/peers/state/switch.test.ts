import { ConfigError, createNetDevices, createVnicContainer, type SwitchableNetDevice } from '@vnic/config';
import { featureBit, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_NEEDS_RESET } from '@vnic/core';
import { VIRTIO_NET_F_CTRL_GUEST_OFFLOADS } from '@vnic/core/virtio_net';
import { DRIVER_FEATURES, VirtioNetDriver } from '@vnic/driver';
import { EVENT_LOOP } from '@vnic/sys';
import { IO_THREAD_POOL, type IoThreadPool } from '@vnic/virtio-net';
import { fdCount, hostTapPeer, waitUntil } from '@vnic/sys/testing';
import { describe, expect, it } from 'vitest';
import { macBytes, SteadyStream, switchEntry, SwitchTap } from './switchRig.ts';

// SwitchableNetDevice.switchBackend on the host without a vhost-user peer: a NIC carrying a steady
// UDP stream from the TS driver (the guest) moves between two in-process virtio-net data planes on
// two taps the test owns (each in its namespace) many times; every frame is counted where it
// arrives; the guest never sees a reset or a config change; no fd is left. Failed switches (a
// vhost-user socket that does not exist, a state the new device refuses, an invalid entry) leave
// the NIC on its backend with traffic flowing.

const peer = hostTapPeer();
const MAC = '52:54:00:5a:7e:51';
const FEATURES = DRIVER_FEATURES & ~featureBit(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
const SWITCHES = 100;

describe.skipIf(peer.skip)('switchBackend: a running NIC between data planes, TS driver as the guest', () => {
  it(`${SWITCHES} switches virtio-net (tap A) <-> virtio-net (tap B) under a steady UDP stream: none lost or duplicated, no reset, no fd left`, async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const a = SwitchTap.create();
    const b = SwitchTap.create();
    const container = createVnicContainer();
    let driver: VirtioNetDriver | undefined;
    try {
      const entry = (t: SwitchTap): Record<string, unknown> => switchEntry('sw0', MAC, 'virtio-net', { tapFds: t.fds });
      const [nic] = await createNetDevices({ net: [entry(a)] }, { container, switchable: true });
      const sw = nic!;
      driver = await VirtioNetDriver.create({ device: sw, features: FEATURES, queuePairs: 1, queueSize: 256 });
      const config = Buffer.from(sw.readConfig(0, sw.configSize));
      const generation = sw.configGeneration;
      const interrupts = driver.configInterrupts;
      const stream = new SteadyStream(driver, macBytes(MAC), Uint8Array.of(0x02, 0, 0, 0, 0, 0x51), [a, b]);
      stream.start();
      let fdsAfterFirst = 0;
      for (let i = 1; i <= SWITCHES; i++) {
        const target = i % 2 === 1 ? b : a;
        const before = stream.sent;
        await waitFor(() => stream.seen >= before, 'the stream to flow before the switch');
        const report = await sw.switchBackend(entry(target));
        expect(report).toMatchObject({ from: 'virtio-net', to: 'virtio-net', activated: true, switches: i });
        if (i === 1) fdsAfterFirst = fdCount.fds();
      }
      const count = await stream.stop();
      console.log(
        `switch: ${SWITCHES} virtio-net <-> virtio-net switches: ${count.sent} frames sent, ${count.atTap} at the taps, ${count.lost.length} lost, ${count.duplicates} duplicated`,
      );
      expect(count.duplicates).toBe(0);
      expect(count.lost).toEqual([]);
      expect(count.atTap).toBe(count.sent);
      expect(count.sent).toBeGreaterThan(SWITCHES * 4);
      // The guest saw no reset, no config change, no config interrupt.
      expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
      expect(driver.status() & VIRTIO_CONFIG_S_DRIVER_OK).toBe(VIRTIO_CONFIG_S_DRIVER_OK);
      expect(Buffer.from(sw.readConfig(0, sw.configSize))).toEqual(config);
      expect(sw.configGeneration).toBe(generation);
      expect(driver.configInterrupts).toBe(interrupts);
      expect(sw.switches).toBe(SWITCHES);
      // Counters carried over: every frame the guest sent is in TX packets.
      expect(sw.stats()[1]!.packets).toBe(count.sent);
      expect(fdCount.fds()).toBe(fdsAfterFirst);
    } finally {
      await driver?.close();
      await container.dispose();
      a.close();
      b.close();
    }
  });

  it('a failed switch (no vhost-user socket; a state the new device refuses; an invalid entry) leaves the NIC running on virtio-net', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const a = SwitchTap.create();
    const container = createVnicContainer();
    let driver: VirtioNetDriver | undefined;
    try {
      const entry = switchEntry('sw1', MAC, 'virtio-net', { tapFds: a.fds });
      const [nic] = await createNetDevices({ net: [entry] }, { container, switchable: true });
      const sw: SwitchableNetDevice = nic!;
      driver = await VirtioNetDriver.create({ device: sw, features: FEATURES, queuePairs: 1, queueSize: 256 });
      const current = sw.current;
      const stream = new SteadyStream(driver, macBytes(MAC), Uint8Array.of(0x02, 0, 0, 0, 0, 0x52), [a]);
      stream.start();
      container.get(EVENT_LOOP); // the container's shared loop (a vhost-user device's): opened once, closed by dispose()
      // A virtio-net device built for a switch starts an idle IO thread before the quiesce
      // (prepareRestore); the pool keeps it (idle, for its devices) when that switch fails.
      await container.get<IoThreadPool>(IO_THREAD_POOL).prewarm();
      const fds = fdCount.fds();

      const noSocket = await sw
        .switchBackend(switchEntry('sw1', MAC, 'vhost-user', { socket: '/run/vnic-no-such-backend.sock', connectTimeoutMs: 200 }))
        .catch((e: unknown) => e);
      expect(ConfigError.is(noSocket) && noSocket.kind).toBe('switch-failed');
      expect(ConfigError.is(noSocket) && noSocket.step).toBe('build');
      expect((noSocket as Error).message).toMatch(
        /^sw1: switch from "virtio-net" to "vhost-user" failed at build: .*\/run\/vnic-no-such-backend\.sock.*; the NIC stays on "virtio-net"$/,
      );

      // Another MAC: the new device is built, the state is refused at restore, the old one resumes.
      const otherMac = await sw.switchBackend(switchEntry('sw1', '52:54:00:5a:7e:5f', 'virtio-net', { tapFds: a.fds })).catch((e: unknown) => e);
      expect(ConfigError.is(otherMac) && otherMac.step).toBe('restore');
      expect((otherMac as Error).message).toMatch(/failed at restore: .*device state refused: config\.mac/);

      const invalid = await sw.switchBackend({ ...entry, queueSize: 100 }).catch((e: unknown) => e);
      expect(ConfigError.is(invalid) && invalid.kind).toBe('invalid-config');
      expect((invalid as Error).message).toMatch(/entry\.queueSize: must be a power of two/);
      const otherId = await sw.switchBackend({ ...entry, id: 'sw9' }).catch((e: unknown) => e);
      expect((otherId as Error).message).toMatch(/entry\.id must be "sw1"/);

      expect(sw.current).toBe(current);
      expect(sw.quiesced).toBe(false);
      const mark = stream.mark();
      await waitFor(() => stream.seenSince(mark), 'traffic after the failed switches');
      const count = await stream.stop();
      expect(count.duplicates).toBe(0);
      expect(count.lost).toEqual([]);
      expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
      expect(fdCount.fds()).toBe(fds);
    } finally {
      await driver?.close();
      await container.dispose();
      a.close();
    }
  });
});

/** The switch tests wait up to 10 s for traffic (a loaded CI machine). */
const waitFor = (cond: () => boolean, what: string): Promise<void> => waitUntil(cond, what, 10_000);
