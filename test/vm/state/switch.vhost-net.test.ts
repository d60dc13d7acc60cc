import { createNetDevices, createVnicContainer, type SwitchableNetDevice } from '@vnic/config';
import { NOTF_COAL_FEATURES, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_NEEDS_RESET } from '@vnic/core';
import { DRIVER_FEATURES, VirtioNetDriver } from '@vnic/driver';
import { fdCount, waitUntil } from '@vnic/sys/testing';
import { IO_THREAD_POOL, type IoThreadPool } from '@vnic/virtio-net';
import { describe, expect, it } from 'vitest';
import { macBytes, ReverseStream, SteadyStream, switchEntry, SwitchTap } from '../../peers/state/switchRig.ts';
import { vhostNetPeer } from '../vhost-net/vhostNetPeer.ts';
import { firstSpawnDone } from '../../fixtures/firstSpawnDone.ts';

// Inside the test VM (kernel vhost_net): switchBackend moves a NIC carrying a steady UDP stream
// both ways virtio-net -> vhost-net -> virtio-net ... on ONE tap the test owns (in its namespace;
// its fd handed to both backends as `tapFds`): the TS driver (the guest) sends on its TX ring,
// every frame counted on the tap's packet socket, and the same socket sends into the tap, every
// frame counted when the guest receives it, whichever data plane moved it.

const MAC = '52:54:00:5a:7e:71';
const PEER = Uint8Array.of(0x02, 0, 0, 0, 0, 0x71);
// The kernel signals the call eventfd itself: a guest that negotiated notification coalescing
// with the in-process backend could not move to vhost-net (the restore refuses it, naming the bits).
const FEATURES = DRIVER_FEATURES & ~NOTF_COAL_FEATURES;
const SWITCHES = 100;
const reason = vhostNetPeer();

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
    let pool: IoThreadPool | undefined;
    try {
      const vn = switchEntry('swk0', MAC, 'virtio-net', { tapFds: tap.fds });
      const vk = switchEntry('swk0', MAC, 'vhost-net', { tapFds: tap.fds });
      const [nic] = await createNetDevices({ net: [vn] }, { container, switchable: true });
      const sw: SwitchableNetDevice = nic!;
      // The IO-thread pool terminates its idle threads when its last virtio-net device closes, so
      // each return to virtio-net would start a new IO thread while building (1-2 s under TCG,
      // before the quiesce: not part of the hand-over). Held here as a second virtio-net NIC would
      // hold it, the thread the old device gives back waits idle for the next one.
      pool = container.get<IoThreadPool>(IO_THREAD_POOL);
      pool.retain();
      driver = await VirtioNetDriver.create({ device: sw, features: FEATURES, queuePairs: 1, queueSize: 256 });
      const config = Buffer.from(sw.readConfig(0, sw.configSize));
      const generation = sw.configGeneration;
      const interrupts = driver.configInterrupts;
      let needsReset = 0;
      let configChanges = 0;
      sw.events.on('needs-reset', () => needsReset++);
      sw.events.on('config-change', () => configChanges++);
      // Frames for the guest wait on the tap while a switch runs: room for them (tun's default is 500).
      tap.ns.ip('link', 'set', tap.tap.name, 'txqueuelen', '4096');
      const reverse = new ReverseStream(tap, macBytes(MAC), PEER);
      const stream = new SteadyStream(driver, macBytes(MAC), PEER, [tap], reverse);
      running = stream;
      // 4 frames each way every 5 ms at most; under TCG the loop turns slower (about 17 frames each way
      // were in flight at, or sent during, each switch).
      stream.start(4, 5);
      const ms: Record<string, number[]> = { 'vhost-net': [], 'virtio-net': [] };
      /** Frames of each direction in flight at a switch (sent, not yet seen, when switchBackend() was called) or sent while it ran. */
      const atSwitch = { out: 0, back: 0 };
      let fdsAfterRound = 0;
      for (let i = 1; i <= SWITCHES; i++) {
        const to = i % 2 === 1 ? 'vhost-net' : 'virtio-net';
        const outFrom = stream.oldestUnseen(); // drains both ways first
        const backFrom = reverse.oldestUnseen();
        const report = await sw.switchBackend(to === 'vhost-net' ? vk : vn);
        atSwitch.out += stream.sent + 1 - outFrom;
        atSwitch.back += reverse.sent + 1 - backFrom;
        expect(report).toMatchObject({ to, activated: true, switches: i });
        // Traffic through the new data plane before the next switch: frames sent after it returned reach the tap and the guest.
        const m = stream.mark();
        const r = reverse.mark();
        await stream.waitFor(() => stream.seenSince(m) && reverse.seenSince(r), `switch ${i}: the stream both ways on ${to}`);
        ms[to]!.push(performance.now() - report.quiescedAt);
        if (i === 2) fdsAfterRound = fdCount.fds();
      }
      expect(sw.current.backend).toBe('virtio-net');
      const fdsAtEnd = fdCount.fds(); // the same NIC on virtio-net again: nothing piled up per switch
      const count = await stream.stop();
      running = undefined;
      const back = reverse.count();
      const median = (xs: number[]): string => [...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(1);
      console.log(
        `switch (test VM): ${SWITCHES} switches virtio-net <-> vhost-net: ${count.sent} frames sent, ${count.atTap} at the tap, ` +
          `${count.lost.length} lost, ${count.duplicates} duplicated; tap -> guest: ${back.sent} sent, ${back.atGuest} at the guest, ` +
          `${back.lost.length} lost, ${back.duplicates} duplicated; in flight at or sent during a switch: ${atSwitch.out} out, ${atSwitch.back} back; quiesce -> first frames both ways median: to vhost-net ${median(ms['vhost-net']!)} ms, ` +
          `to virtio-net ${median(ms['virtio-net']!)} ms; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      expect(count.duplicates).toBe(0);
      expect(count.lost).toEqual([]);
      expect(count.atTap).toBe(count.sent);
      expect(count.sent).toBeGreaterThan(SWITCHES);
      expect(back.duplicates).toBe(0);
      expect(back.lost).toEqual([]);
      expect(back.atGuest).toBe(back.sent);
      expect(back.sent).toBeGreaterThan(SWITCHES);
      // The switches ran under traffic, not between bursts.
      expect(atSwitch.out).toBeGreaterThan(SWITCHES);
      expect(atSwitch.back).toBeGreaterThan(SWITCHES);
      // The guest saw no reset, no config change, no config interrupt.
      expect(needsReset).toBe(0);
      expect(configChanges).toBe(0);
      expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
      expect(driver.status() & VIRTIO_CONFIG_S_DRIVER_OK).toBe(VIRTIO_CONFIG_S_DRIVER_OK);
      expect(Buffer.from(sw.readConfig(0, sw.configSize))).toEqual(config);
      expect(sw.configGeneration).toBe(generation);
      expect(driver.configInterrupts).toBe(interrupts);
      expect(sw.switches).toBe(SWITCHES);
      expect(fdsAtEnd).toBe(fdsAfterRound);
    } finally {
      await running?.stop(0);
      await driver?.close();
      await pool?.unretain();
      await container.dispose();
      tap.close();
    }
    // The shared event loop closes its epoll fd once its thread is done: wait (bounded) for that.
    await waitUntil(() => fdCount.fds() <= fdsBefore, 'the switch fds to be closed', 10_000).catch(() => undefined);
    expect(fdCount.fds()).toBe(fdsBefore);
  }, 150_000);
});
