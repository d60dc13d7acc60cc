import { createNetDevices, createVnicContainer, type SwitchableNetDevice } from '@vnic/config';
import { NOTF_COAL_FEATURES, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_NEEDS_RESET } from '@vnic/core';
import { DRIVER_FEATURES, VirtioNetDriver } from '@vnic/driver';
import { fdCount, waitUntil } from '@vnic/sys/testing';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { macBytes, SteadyStream, switchEntry, SwitchTap } from '../../peers/state/switchRig.ts';
import { vhostNetPeer } from '../vhost-net/vhostNetPeer.ts';

// Inside the test VM (kernel vhost_net): switchBackend moves a NIC carrying a steady UDP stream
// from the TS driver (the guest) virtio-net -> vhost-net -> virtio-net ... on ONE tap the test
// owns (in its namespace; its fd handed to both backends as `tapFds`), so every frame the guest
// sends is counted on the tap's packet socket whichever data plane moved it.

const MAC = '52:54:00:5a:7e:71';
const PEER = Uint8Array.of(0x02, 0, 0, 0, 0, 0x71);
// The kernel signals the call eventfd itself: a guest that negotiated notification coalescing
// with the in-process backend could not move to vhost-net (the restore refuses it, naming the bits).
const FEATURES = DRIVER_FEATURES & ~NOTF_COAL_FEATURES;
const SWITCHES = 100;
const reason = vhostNetPeer();

/** See test/vm/state/vhostNet.state.test.ts: Node's first piped spawn keeps a /dev/null fd for good; spawn once before the baseline. */
async function firstSpawnDone(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    spawn('true', [], { stdio: 'pipe' })
      .once('close', () => resolve())
      .once('error', reject),
  );
}

describe('switchBackend in the test VM: virtio-net <-> kernel vhost-net under a steady UDP stream', () => {
  it(`${SWITCHES} switches virtio-net -> vhost-net -> virtio-net: none duplicated, none lost, no guest reset, no fd left`, async () => {
    if (reason !== undefined) throw new Error(`kernel vhost_net peer missing: ${reason}`);
    const t0 = performance.now();
    await firstSpawnDone();
    const fdsBefore = fdCount.fds();
    const tap = SwitchTap.create();
    const container = createVnicContainer();
    let driver: VirtioNetDriver | undefined;
    let running: SteadyStream | undefined;
    try {
      const vn = switchEntry('swk0', MAC, 'virtio-net', { tapFds: tap.fds });
      const vk = switchEntry('swk0', MAC, 'vhost-net', { tapFds: tap.fds });
      const [nic] = await createNetDevices({ net: [vn] }, { container, switchable: true });
      const sw: SwitchableNetDevice = nic!;
      driver = await VirtioNetDriver.create({ device: sw, features: FEATURES, queuePairs: 1, queueSize: 256 });
      const config = Buffer.from(sw.readConfig(0, sw.configSize));
      const generation = sw.configGeneration;
      const interrupts = driver.configInterrupts;
      let needsReset = 0;
      let configChanges = 0;
      sw.events.on('needs-reset', () => needsReset++);
      sw.events.on('config-change', () => configChanges++);
      const stream = new SteadyStream(driver, macBytes(MAC), PEER, [tap]);
      running = stream;
      stream.start();
      const ms: Record<string, number[]> = { 'vhost-net': [], 'virtio-net': [] };
      for (let i = 1; i <= SWITCHES; i++) {
        const to = i % 2 === 1 ? 'vhost-net' : 'virtio-net';
        const report = await sw.switchBackend(to === 'vhost-net' ? vk : vn);
        expect(report).toMatchObject({ to, activated: true, switches: i });
        // Traffic through the new data plane before the next switch: a frame sent after it returned reaches the tap.
        const m = stream.mark();
        await stream.waitFor(() => stream.seenSince(m), `switch ${i}: the stream on ${to}`, 0);
        ms[to]!.push(performance.now() - report.quiescedAt);
      }
      expect(sw.current.backend).toBe('virtio-net');
      const count = await stream.stop();
      running = undefined;
      const median = (xs: number[]): string => [...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(1);
      console.log(
        `switch (test VM): ${SWITCHES} switches virtio-net <-> vhost-net: ${count.sent} frames sent, ${count.atTap} at the tap, ` +
          `${count.lost.length} lost, ${count.duplicates} duplicated; quiesce -> first frame median: to vhost-net ${median(ms['vhost-net']!)} ms, ` +
          `to virtio-net ${median(ms['virtio-net']!)} ms; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      expect(count.duplicates).toBe(0);
      expect(count.lost).toEqual([]);
      expect(count.atTap).toBe(count.sent);
      expect(count.sent).toBeGreaterThan(SWITCHES);
      // The guest saw no reset, no config change, no config interrupt.
      expect(needsReset).toBe(0);
      expect(configChanges).toBe(0);
      expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
      expect(driver.status() & VIRTIO_CONFIG_S_DRIVER_OK).toBe(VIRTIO_CONFIG_S_DRIVER_OK);
      expect(Buffer.from(sw.readConfig(0, sw.configSize))).toEqual(config);
      expect(sw.configGeneration).toBe(generation);
      expect(driver.configInterrupts).toBe(interrupts);
      expect(sw.switches).toBe(SWITCHES);
    } finally {
      await running?.stop(0);
      await driver?.close();
      await container.dispose();
      tap.close();
    }
    // The shared event loop closes its epoll fd once its thread is done: wait (bounded) for that.
    await waitUntil(() => fdCount.fds() <= fdsBefore, 'the switch fds to be closed', 10_000).catch(() => undefined);
    expect(fdCount.fds()).toBe(fdsBefore);
  }, 110_000);
});
