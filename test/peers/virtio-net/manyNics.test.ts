import { readdirSync } from 'node:fs';
import type { NetDeviceConfig } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { PacketSocket } from '@vnic/sys';
import { fdCount, hostTapPeer, Netns, uniqueName } from '@vnic/sys/testing';
import { IoThreadPool, VirtioNetTapDevice } from '@vnic/virtio-net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';

// 64 NICs in one process on a pool of 2 IO threads: each thread one epoll over the queue pairs of
// 32 NICs. Every NIC's tap sits in one namespace of the test's own with an AF_PACKET socket on it:
// frames the guest sends are captured there, frames injected there reach the guest. Payloads are
// checked byte for byte and in order (testFrame: a sequence number and a pattern derived from it).

const NICS = 64;
const THREADS = 2;
/** Frames each way per NIC in the all-at-once round. */
const BURST = 16;
/** Frames each way per round while the other half is reset and closed. */
const ROUND = 8;

const threads = (): number => readdirSync('/proc/self/task').length;

interface Nic {
  readonly i: number;
  readonly mac: Uint8Array;
  readonly device: VirtioNetTapDevice;
  readonly sock: PacketSocket;
  driver: VirtioNetDriver | undefined;
  /** Next sequence number (TX and RX share it; each frame carries it). */
  seq: number;
}

function config(i: number): NetDeviceConfig {
  return netConfig('virtio-net', {
    id: `vnt-many${i}`,
    mac: Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x40, i),
    queueSize: 64,
    options: { tap: uniqueName('vnm') },
  });
}

/** A frame size that varies with the sequence number (60..1514 bytes). */
const sizeOf = (seq: number): number => 60 + ((seq * 97) % 1455);

/** Collects `count` test frames the guest of `nic` sent, by polling its packet socket until `deadline`. */
async function capture(nic: Nic, count: number, deadline: number): Promise<Uint8Array[]> {
  const buf = new Uint8Array(2048);
  const out: Uint8Array[] = [];
  while (out.length < count) {
    const n = nic.sock.recv(buf);
    if (n > 0) {
      const f = buf.slice(0, n);
      if (isTestFrame(f)) out.push(f);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`nic ${nic.i}: ${out.length}/${count} frames from the guest`);
    await new Promise((r) => setTimeout(r, 1));
  }
  return out;
}

/**
 * Moves `count` frames each way on `nic` at once (guest -> tap and tap -> guest) and checks each
 * one: same bytes, same order.
 */
async function exchange(nic: Nic, count: number): Promise<void> {
  const driver = nic.driver!;
  const first = nic.seq;
  nic.seq += 2 * count;
  const tx = [...Array(count).keys()].map((k) => testFrame(OUTSIDE_MAC, nic.mac, first + k, sizeOf(first + k)));
  const rx = [...Array(count).keys()].map((k) => testFrame(nic.mac, OUTSIDE_MAC, first + count + k, sizeOf(first + count + k)));
  expect(driver.sendBatch(tx)).toBe(count);
  for (const f of rx) expect(nic.sock.send(f)).toBe(true);
  const deadline = Date.now() + 20_000;
  const [sent, received] = await Promise.all([capture(nic, count, deadline), driver.receiveMany(count, 0, 20_000)]);
  expect(sent.map(frameSeq)).toEqual(tx.map(frameSeq));
  sent.forEach((f, k) => expect(Buffer.from(f).equals(Buffer.from(tx[k]!)), `nic ${nic.i} TX frame ${k}`).toBe(true));
  expect(received.map((r) => frameSeq(r.frame))).toEqual(rx.map(frameSeq));
  received.forEach((r, k) => expect(Buffer.from(r.frame).equals(Buffer.from(rx[k]!)), `nic ${nic.i} RX frame ${k}`).toBe(true));
  await driver.flushTx();
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)(`${NICS} virtio-net NICs on a pool of ${THREADS} IO threads`, () => {
  let ns: Netns;
  let pool: IoThreadPool;
  const nics: Nic[] = [];
  let base: { fds: number; tasks: number; maps: number };
  let baseLines: string[] = [];

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    // Warm up what is created once per process (the IO thread bundle, koffi's pools) on a pool of its own.
    const warm = new IoThreadPool({ threads: 1 });
    const w = VirtioNetTapDevice.open(config(200), { pool: warm });
    await (await VirtioNetDriver.create({ device: w, queueSize: 64 })).close();
    await w.close();
    await warm.close();
    base = { fds: fdCount.fds(), tasks: threads(), maps: fdCount.mapLines().length };
    baseLines = fdCount.mapLines();

    ns = Netns.create('vnmn');
    ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
    pool = new IoThreadPool({ threads: THREADS });
    for (let i = 0; i < NICS; i++) {
      const c = config(i);
      const device = VirtioNetTapDevice.open(c, { pool });
      ns.adopt(device.tapName);
      ns.ip('link', 'set', device.tapName, 'up');
      const sock = PacketSocket.open(device.tapName, { netns: ns.name });
      nics.push({ i, mac: c.mac, device, sock, driver: undefined, seq: 1 });
    }
    // All activations at once: the placement must still keep to THREADS threads.
    await Promise.all(
      nics.map(async (n) => {
        n.driver = await VirtioNetDriver.create({ device: n.device, queueSize: 64 });
      }),
    );
  }, 120_000);

  let closedAll = false;

  afterAll(async () => {
    if (closedAll) return;
    for (const n of nics) {
      await n.driver?.close().catch(() => undefined);
      n.sock.close();
      await n.device.close().catch(() => undefined);
    }
    await pool?.close();
    ns?.delete();
  });

  it('spreads the 64 queue pairs over the 2 threads and carries traffic on all of them at once, payloads intact', { timeout: 120_000 }, async () => {
    expect(pool.size).toBe(THREADS);
    expect(pool.pairsPerThread.sort((a, b) => a - b)).toEqual([NICS / THREADS, NICS / THREADS]);
    await Promise.all(nics.map((n) => exchange(n, BURST)));
    for (const n of nics) {
      const [rx, tx] = n.device.stats();
      expect(rx!.packets).toBe(BURST);
      expect(tx!.packets).toBe(BURST);
      expect(rx!.drops + tx!.drops + rx!.noBuffer).toBe(0);
    }
  });

  it('ring corruption on one NIC raises needs-reset for that NIC alone; the 63 others on the same threads carry on', { timeout: 120_000 }, async () => {
    const reasons: [number, string][] = [];
    const listeners = nics.map((n) => {
      const on = (why: string): void => {
        reasons.push([n.i, why]);
      };
      n.device.events.on('needs-reset', on);
      return on;
    });
    try {
      const bad = nics[0]!;
      bad.driver!.postMalformed('avail-idx-jump', 0);
      const deadline = Date.now() + 10_000;
      while (reasons.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(reasons.map(([i]) => i)).toEqual([0]);
      expect(reasons[0]![1]).toMatch(/invalid available ring index/);
      await Promise.all(nics.slice(1).map((n) => exchange(n, 4)));
      expect(reasons.length).toBe(1);
      // The guest resets the broken NIC and brings it up again: it works, next to the others.
      await bad.driver!.close();
      bad.driver = await VirtioNetDriver.create({ device: bad.device, queueSize: 64 });
      await exchange(bad, 4);
    } finally {
      nics.forEach((n, k) => n.device.events.off('needs-reset', listeners[k]!));
    }
  });

  it('resetting and closing half of them while the other half carries traffic loses nothing on the rest', { timeout: 120_000 }, async () => {
    const going = nics.filter((n) => n.i % 2 === 0);
    const staying = nics.filter((n) => n.i % 2 === 1);
    const before = staying.map((n) => n.device.stats());
    let closing = true;
    let rounds = 0;
    // Each staying NIC exchanges rounds until the closes are done (and at least 3 rounds).
    const traffic = Promise.all(
      staying.map(async (n) => {
        for (let r = 0; closing || r < 3; r++) {
          await exchange(n, ROUND);
          rounds++;
        }
      }),
    );
    const closes = (async () => {
      for (const n of going) {
        await n.driver!.close(); // guest reset: the pair leaves its thread
        n.driver = undefined;
        await n.device.close();
      }
    })().finally(() => {
      closing = false;
    });
    await Promise.all([traffic, closes]);
    expect(rounds).toBeGreaterThanOrEqual(3 * staying.length);
    expect(pool.pairsPerThread.reduce((a, b) => a + b, 0)).toBe(staying.length);
    staying.forEach((n, k) => {
      const [rx, tx] = n.device.stats();
      const [rx0, tx0] = before[k]!;
      expect(rx!.drops + tx!.drops + rx!.noBuffer - (rx0!.drops + tx0!.drops + rx0!.noBuffer)).toBe(0);
      expect(rx!.packets - rx0!.packets).toBe(tx!.packets - tx0!.packets); // every round moved as many each way
    });
    // The staying NICs are still served after all that.
    await Promise.all(staying.map((n) => exchange(n, 2)));
  });

  it('closing every NIC and the pool leaves no fd, thread or mapping behind', { timeout: 60_000 }, async () => {
    for (const n of nics) {
      await n.driver?.close();
      n.driver = undefined;
      n.sock.close();
      await n.device.close();
    }
    await pool.close();
    ns.delete();
    closedAll = true;
    const deadline = Date.now() + 5000;
    while ((threads() > base.tasks || fdCount.fds() > base.fds) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fdCount.fds()).toBe(base.fds);
    expect(threads()).toBe(base.tasks);
    // Every mapping of a resource is named (io_uring rings, memfd guest RAM, files): those must all
    // be gone. Anonymous ones are the JS heaps and malloc arenas (and koffi's per-thread stacks),
    // which grow and shrink with the heap after this much traffic: reported, not counted.
    const named = (lines: readonly string[]): string[] =>
      lines.filter((l) => l.trim().split(/\s+/).length > 5).map((l) => l.trim().split(/\s+/).slice(5).join(' '));
    const leaked = named(fdCount.mapLines());
    for (const l of named(baseLines)) {
      const k = leaked.indexOf(l);
      if (k >= 0) leaked.splice(k, 1);
    }
    expect(leaked).toEqual([]);
    console.log(
      `[virtio-net] ${NICS} NICs closed: /proc/self/maps ${base.maps} -> ${fdCount.mapLines().length} lines (anonymous: heap and koffi's per-thread memory)`,
    );
  });
});
