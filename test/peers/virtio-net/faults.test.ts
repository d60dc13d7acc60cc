import type { Worker } from 'node:worker_threads';
import { VIRTIO_CONFIG_S_NEEDS_RESET, type NetDeviceConfig } from '@vnic/core';
import { testNetConfig } from '@vnic/core/testing';
import { CHAIN_LEVEL_MALFORMED, VirtioNetDriver } from '@vnic/driver';
import type { EventFd } from '@vnic/sys';
import { TX_ENGINE_ENV } from '@vnic/virtio-net';
import { afterEach, describe, expect, it } from 'vitest';
import { hostTapPeer } from '@vnic/sys/testing';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// Guest faults on a running device with two queue pairs: every chain-level malformed chain is
// returned with used length 0 and counted on the queue it was posted to while good frames keep
// flowing; ring-level corruption stops that queue and raises needs-reset; an IO thread that dies
// raises needs-reset too, never an exception in this process; reset + re-activation recovers.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x04, 0x02);

function config(): NetDeviceConfig {
  return testNetConfig({ id: 'vnt-faults', backend: 'virtio-net', mac: MAC, queuePairs: 2 });
}

async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: guest faults and IO thread failures', () => {
  const open: { nic: TapNetns; drivers: VirtioNetDriver[] }[] = [];
  afterEach(async () => {
    for (const { nic, drivers } of open.splice(0)) {
      for (const d of drivers) await d.close();
      await nic.close();
    }
  });

  async function start(): Promise<{ nic: TapNetns; driver: VirtioNetDriver; reasons: [string, number | undefined][] }> {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const nic = TapNetns.create(config(), { packetSocket: true });
    const entry = { nic, drivers: [] as VirtioNetDriver[] };
    open.push(entry);
    const reasons: [string, number | undefined][] = [];
    nic.device.events.on('needs-reset', (why, q) => reasons.push([why, q]));
    const driver = await VirtioNetDriver.create({ device: nic.device, queuePairs: 2 });
    entry.drivers.push(driver);
    return { nic, driver, reasons };
  }

  it('counts every malformed chain kind on both pairs and keeps serving good chains', async () => {
    const { nic, driver, reasons } = await start();
    let seq = 1;
    for (const pair of [0, 1]) {
      const txIndex = 2 * pair + 1;
      for (const kind of CHAIN_LEVEL_MALFORMED) {
        const before = nic.device.stats()[txIndex]!.malformed;
        driver.postMalformed(kind, pair);
        const good = testFrame(OUTSIDE_MAC, MAC, seq++, 120);
        expect(driver.send(good, { queuePair: pair }), `${kind} on pair ${pair}`).toBe(true);
        expect((await nic.capture(1, isTestFrame)).map(frameSeq), kind).toEqual([seq - 1]);
        expect(nic.device.stats()[txIndex]!.malformed, `${kind} on pair ${pair}`).toBe(before + 1);
        await driver.flushTx(pair);
      }
    }
    expect(reasons).toEqual([]);
    expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
    // Receiving still works too.
    nic.send(testFrame(MAC, OUTSIDE_MAC, 999, 200));
    const rx = await driver.receiveAny(2000);
    expect(rx && frameSeq(rx.frame)).toBe(999);
  });

  it('ring-level corruption on pair 1 raises needs-reset for that queue; pair 0 keeps working; reset recovers', async () => {
    const { nic, driver, reasons } = await start();
    driver.postMalformed('avail-idx-jump', 1);
    await until(() => reasons.length > 0, 'needs-reset');
    expect(reasons[0]![1]).toBe(3);
    expect(reasons[0]![0]).toMatch(/vnt-faults: queue 3: invalid available ring index/);
    await until(() => (driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0, 'DEVICE_NEEDS_RESET');
    // The broken queue stops; the other pair is still served until the guest resets the device.
    expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 10, 100), { queuePair: 0 })).toBe(true);
    expect((await nic.capture(1, isTestFrame)).map(frameSeq)).toEqual([10]);

    await driver.close();
    const again = await VirtioNetDriver.create({ device: nic.device, queuePairs: 2 });
    open.at(-1)!.drivers.push(again);
    expect(again.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
    expect(again.send(testFrame(OUTSIDE_MAC, MAC, 11, 100), { queuePair: 1 })).toBe(true);
    expect((await nic.capture(1, isTestFrame)).map(frameSeq)).toEqual([11]);
  });

  it('without RX buffers frames wait in the tap (noBuffer counted once, the tap not polled) until the guest posts more', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const nic = TapNetns.create({ ...config(), queuePairs: 1 }, { packetSocket: true });
    const entry = { nic, drivers: [] as VirtioNetDriver[] };
    open.push(entry);
    const driver = await VirtioNetDriver.create({ device: nic.device, rxBuffers: 2 });
    entry.drivers.push(driver);
    for (let i = 0; i < 2; i++) nic.send(testFrame(MAC, OUTSIDE_MAC, 100 + i, 100));
    await until(() => nic.device.stats()[0]!.packets === 2, 'two frames delivered');
    for (let i = 2; i < 6; i++) nic.send(testFrame(MAC, OUTSIDE_MAC, 100 + i, 100));
    await until(() => nic.device.stats()[0]!.noBuffer >= 1, 'noBuffer');
    // Stalled now. (A guest kick that arrives late, e.g. the one that posted the first buffers,
    // may end one stall and start another: each stall counts once, so take the figure here.)
    const stalled = nic.device.stats()[0]!.noBuffer;
    // Stalled with frames pending, the IO thread must not poll the readable tap. It counts a
    // noBuffer for each wake-up that finds the tap readable while stalled, so a thread that kept
    // watching the tap would count one per loop turn (a busy loop: thousands). Make it turn: each
    // frame the guest sends wakes the same thread (pair 0's) while four frames wait in the tap.
    for (let i = 0; i < 5; i++) {
      expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 200 + i, 100))).toBe(true);
      expect((await nic.capture(1, isTestFrame)).map(frameSeq)).toEqual([200 + i]);
    }
    await driver.flushTx();
    expect(nic.device.stats()[1]!.packets).toBe(5); // five turns of the thread, TX side
    expect(nic.device.stats()[0]!.noBuffer).toBe(stalled); // five wake-ups while stalled: not one more noBuffer
    expect(nic.device.stats()[0]!.packets).toBe(2);
    // receive() reposts each buffer it takes and kicks: the waiting frames come in, in order.
    const got = await driver.receiveMany(6, 0, 3000);
    expect(got.map((r) => frameSeq(r.frame))).toEqual([100, 101, 102, 103, 104, 105]);
    expect(nic.device.stats()[0]!.drops).toBe(0);
  });

  for (const engine of ['io_uring', 'writev']) {
    it(`TX (${engine}): a frame the kernel refuses (unknown GSO type: EINVAL) in the middle of a batch is one drop; the frames around it leave`, async () => {
      const saved = process.env[TX_ENGINE_ENV];
      if (engine === 'writev') process.env[TX_ENGINE_ENV] = 'writev';
      let started: Awaited<ReturnType<typeof start>>;
      try {
        started = await start();
      } finally {
        if (saved === undefined) delete process.env[TX_ENGINE_ENV];
        else process.env[TX_ENGINE_ENV] = saved;
      }
      const { nic, driver, reasons } = started;
      const before = nic.device.stats()[1]!;
      // One kick for all three, so the device writes them in one step (one io_uring_enter).
      expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 1, 120), { kick: false })).toBe(true);
      expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 2, 120), { kick: false, hdr: { gsoType: 0x7f, gsoSize: 100, hdrLen: 54 } })).toBe(true);
      expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 3, 120))).toBe(true);
      expect((await nic.capture(2, isTestFrame)).map(frameSeq)).toEqual([1, 3]);
      await driver.flushTx();
      const after = nic.device.stats()[1]!;
      expect(after.packets - before.packets).toBe(2);
      expect(after.drops - before.drops).toBe(1);
      expect(reasons).toEqual([]); // a refused frame is not a dead tap queue
      expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 4, 120))).toBe(true);
      expect((await nic.capture(1, isTestFrame)).map(frameSeq)).toEqual([4]);
    });
  }

  it('an IO thread that dies raises needs-reset and never an exception here; reset recovers', async () => {
    const { nic, driver, reasons } = await start();
    // Fault injection: kill the pair-0 thread from outside (a crash the device did not ask for).
    // terminate() lands when the thread is back in JS, so wake it from epoll_wait with its control eventfd.
    const pair0 = (
      nic.device as unknown as { active: { threads: { thread(pair: number): { thread: { worker: Worker }; control: EventFd } } } }
    ).active.threads.thread(0);
    const killed = pair0.thread.worker.terminate();
    pair0.control.write(1n);
    await killed;
    await until(() => reasons.length > 0, 'needs-reset');
    expect(reasons[0]![0]).toMatch(/IO thread of queue pair 0 failed: the thread exited unexpectedly/);
    await until(() => (driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0, 'DEVICE_NEEDS_RESET');

    await driver.close(); // reset: joins what is left, returns ring positions
    const again = await VirtioNetDriver.create({ device: nic.device, queuePairs: 2 });
    open.at(-1)!.drivers.push(again);
    expect(again.send(testFrame(OUTSIDE_MAC, MAC, 20, 100))).toBe(true);
    expect((await nic.capture(1, isTestFrame)).map(frameSeq)).toEqual([20]);
    expect(await again.ctrl({ kind: 'rx-mode', mode: 'promisc', on: true })).toBe(0);
  });
});
