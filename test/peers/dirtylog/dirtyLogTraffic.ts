import type { DirtyLog, GuestMemory } from '@vnic/core';
import type { VirtioNetDriver } from '@vnic/driver';
import { MemfdDirtyLog } from '@vnic/sys';
import { fdCount, waitUntil } from '@vnic/sys/testing';
import { expect } from 'vitest';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import type { TapBackedDevice, TapNetns } from '../../fixtures/TapNetns.ts';

const PAGE = 4096;

/** What one logged round showed. */
export interface LoggedRound {
  /** Pages whose bytes changed while only the device wrote guest memory. */
  readonly changedPages: number;
  /** Pages the device was known to write (RX buffers it filled, the used-ring entries and indices). */
  readonly expectedPages: number;
  /** Pages the log held at the end of the round. */
  readonly loggedPages: number;
}

/** How loggedRound sees that the device moved the frames. */
export interface LoggedRoundOptions {
  /**
   * `stats` (default): the device's per-queue packet counters. `used-ring`: the used indices in
   * guest memory (a data plane that counts nothing, as the kernel's vhost-net; each test frame
   * fits one RX buffer, so one used element is one frame).
   */
  readonly progress?: 'stats' | 'used-ring';
}

/** A copy of every region of guest memory: [guest-physical base, bytes]. */
function snapshot(mem: GuestMemory): [number, Uint8Array][] {
  return mem.regions.map((r) => [r.guestPhysAddr, mem.read(r.guestPhysAddr, r.size)!]);
}

function rd16(mem: GuestMemory, gpa: number): number {
  const b = mem.read(gpa, 2)!;
  return b[0]! | (b[1]! << 8);
}
function rd32(mem: GuestMemory, gpa: number): number {
  const b = mem.read(gpa, 4)!;
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** Pages of [gpa, gpa + len) (len > 0). */
function pagesOf(gpa: number, len: number, into: Set<number>): void {
  for (let p = Math.floor(gpa / PAGE); p <= Math.floor((gpa + len - 1) / PAGE); p++) into.add(p);
}

/**
 * The pages a device wrote into split queue `q` of the driver between used index `from` and
 * `to`: each used element, used->idx, and (RX) the first `len` bytes of each returned chain's
 * buffers, read back from the descriptor table (the test posted them, so it knows where they are).
 */
function devicePages(mem: GuestMemory, q: { descTable: number; usedRing: number; size: number }, from: number, to: number, buffers: boolean): Set<number> {
  const pages = new Set<number>();
  pagesOf(q.usedRing + 2, 2, pages);
  for (let i = from; i !== to; i = (i + 1) & 0xffff) {
    const elem = q.usedRing + 4 + 8 * (i % q.size);
    pagesOf(elem, 8, pages);
    if (!buffers) continue;
    let id = rd32(mem, elem);
    let left = rd32(mem, elem + 4);
    for (let hop = 0; left > 0 && hop < q.size; hop++) {
      const d = q.descTable + 16 * id;
      const addr = rd32(mem, d) + rd32(mem, d + 4) * 2 ** 32;
      const len = rd32(mem, d + 8);
      const n = Math.min(len, left);
      if (n > 0) pagesOf(addr, n, pages);
      left -= n;
      if ((rd16(mem, d + 12) & 1) === 0) break; // no VIRTQ_DESC_F_NEXT
      id = rd16(mem, d + 14);
    }
  }
  return pages;
}

/**
 * One round of traffic both ways on queue pair 0 while `log` is the device's dirty log, in which
 * only the device writes guest memory: the guest posts `frames` TX frames without kicking and has
 * its RX buffers posted, memory is copied, then the TX queue is kicked and `frames` frames are
 * injected on the tap; once the device counted all of them (nothing of the guest runs meanwhile),
 * every page whose bytes changed must be marked, and so must every page the device is known to
 * have written (the RX buffers it filled, both used rings). Then the guest takes the frames (each
 * checked) and the tap side checks what the guest sent.
 */
export async function loggedRound(
  nic: TapNetns<TapBackedDevice>,
  driver: VirtioNetDriver,
  log: DirtyLog,
  mac: Uint8Array,
  seq: number,
  frames: number,
  options: LoggedRoundOptions = {},
): Promise<LoggedRound> {
  const mem = driver.memory;
  const rxq = driver.queue(0);
  const txq = driver.queue(1);
  const stats = (): { rx: number; tx: number } => {
    const s = nic.device.stats();
    return { rx: s[0]!.packets, tx: s[1]!.packets };
  };
  const base = stats();
  for (let i = 0; i < frames; i++) expect(driver.send(testFrame(OUTSIDE_MAC, mac, seq + i, 60 + ((seq + i) % 200)), { kick: false })).toBe(true);
  const rxFrom = rd16(mem, rxq.usedRing + 2);
  const txFrom = rd16(mem, txq.usedRing + 2);
  log.takeDirtyPages();
  const before = snapshot(mem);

  driver.kick(1);
  for (let i = 0; i < frames; i++) nic.send(testFrame(mac, OUTSIDE_MAC, seq + i, 64 + ((seq + i) % 300)));
  const moved = (q: { usedRing: number }, from: number): number => (rd16(mem, q.usedRing + 2) - from) & 0xffff;
  await waitUntil(
    () => {
      if (options.progress === 'used-ring') return moved(rxq, rxFrom) >= frames && moved(txq, txFrom) >= frames;
      const s = stats();
      return s.rx - base.rx >= frames && s.tx - base.tx >= frames && rd16(mem, rxq.usedRing + 2) !== rxFrom;
    },
    `the device counting ${frames} frames each way`,
    20_000,
  );
  // The counters are published after the used ring: wait for used->idx to cover them too.
  await waitUntil(() => moved(txq, txFrom) >= frames, 'the TX used ring', 10_000);

  const logged = new Set(log.dirtyPages());
  const after = snapshot(mem);
  const unlogged: number[] = [];
  let changed = 0;
  for (let r = 0; r < before.length; r++) {
    const [gpa, a] = before[r]!;
    const b = after[r]![1];
    for (let off = 0; off < a.length; off += PAGE) {
      const end = Math.min(off + PAGE, a.length);
      if (Buffer.compare(a.subarray(off, end), b.subarray(off, end)) === 0) continue;
      changed++;
      const page = Math.floor((gpa + off) / PAGE);
      if (!logged.has(page)) unlogged.push(page);
    }
  }
  expect(unlogged, 'pages the device changed that are not in the dirty log').toEqual([]);
  const rxTo = rd16(mem, rxq.usedRing + 2);
  const txTo = rd16(mem, txq.usedRing + 2);
  const expected = new Set([...devicePages(mem, rxq, rxFrom, rxTo, true), ...devicePages(mem, txq, txFrom, txTo, false)]);
  const missing = [...expected].filter((p) => !logged.has(p));
  expect(missing, 'pages the device wrote (RX buffers, used rings) missing from the dirty log').toEqual([]);
  expect(changed).toBeGreaterThan(0);

  // The guest takes what arrived, each frame checked; the tap side checks what the guest sent.
  const got: number[] = [];
  while (got.length < frames) {
    const r = await driver.receiveAny(5000);
    if (r === undefined) throw new Error(`guest received ${got.length}/${frames} frames`);
    if (!isTestFrame(r.frame)) continue;
    const s = frameSeq(r.frame);
    expect(r.frame).toEqual(testFrame(mac, OUTSIDE_MAC, s, 64 + (s % 300)));
    got.push(s);
  }
  expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: frames }, (_, i) => seq + i));
  const sent = await nic.capture(frames, isTestFrame, 10_000);
  expect(sent.map(frameSeq)).toEqual(Array.from({ length: frames }, (_, i) => seq + i));
  for (const f of sent) expect(f).toEqual(testFrame(OUTSIDE_MAC, mac, frameSeq(f), 60 + (frameSeq(f) % 200)));
  return { changedPages: changed, expectedPages: expected.size, loggedPages: logged.size };
}

/** The end of the driver's guest memory: the size a dirty log over all of it needs. */
export function memoryEnd(driver: VirtioNetDriver): number {
  let end = 0;
  for (const r of driver.memory.regions) end = Math.max(end, r.guestPhysAddr + r.size);
  return end;
}

/** What {@link toggledRounds} saw: the sequence numbers each way, and the pages all its logs took. */
export interface ToggledRounds {
  readonly sent: readonly number[];
  /** What the guest received, sorted. */
  readonly received: readonly number[];
  /** What the guest sent, as the tap side captured it, in order. */
  readonly captured: readonly number[];
  readonly marked: number;
}

/**
 * Switches dirty logging on and off `rounds` times on `nic`, a new memfd log (named `name`) each
 * time, with 3 frames each way while each log is on; checks after each round that the log's
 * mapping is gone. Then drains both directions (waiting up to `timeoutMs` per step).
 */
export async function toggledRounds(
  nic: TapNetns<TapBackedDevice>,
  driver: VirtioNetDriver,
  mac: Uint8Array,
  name: string,
  rounds: number,
  timeoutMs: number,
): Promise<ToggledRounds> {
  const end = memoryEnd(driver);
  const mappings = fdCount.memfdMappings(name);
  const sent: number[] = [];
  const received: number[] = [];
  const captured: number[] = [];
  let marked = 0;
  let seq = 0;
  for (let round = 0; round < rounds; round++) {
    const m = MemfdDirtyLog.create(end, name);
    try {
      await nic.device.startDirtyLog(m.log);
      // A few frames each way while this log is on, taken as they come.
      for (let i = 0; i < 3; i++, seq++) {
        expect(driver.send(testFrame(OUTSIDE_MAC, mac, seq, 70))).toBe(true);
        nic.send(testFrame(mac, OUTSIDE_MAC, seq, 90));
        sent.push(seq);
      }
      for (let r = driver.tryReceive(); r !== undefined; r = driver.tryReceive()) if (isTestFrame(r.frame)) received.push(frameSeq(r.frame));
      await nic.device.stopDirtyLog();
      marked += m.log.countDirty();
      // What the guest sent this round, taken from the tap (the device may finish it after the stop).
      captured.push(...(await nic.capture(3, isTestFrame, timeoutMs)).map(frameSeq));
    } finally {
      // The device dropped the log's address on stop (vhost-net: VHOST_SET_LOG_BASE 0): unmapping it is safe.
      m.close();
    }
    expect(fdCount.memfdMappings(name)).toBe(mappings);
  }
  await driver.flushTx(0, timeoutMs);
  while (received.length < sent.length) {
    const r = await driver.receive(0, timeoutMs);
    if (r === undefined) break;
    if (isTestFrame(r.frame)) received.push(frameSeq(r.frame));
  }
  return { sent, received: received.sort((a, b) => a - b), captured, marked };
}
