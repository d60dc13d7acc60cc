import type { DirtyLog, DriverQueue, GuestMemory } from '@vnic/core';
import { DRIVER_BUFFER_MAX } from '@vnic/driver';

const PAGE = 0x1000;

/** Guest memory `[base, base + size)` and a copy of it taken when logging began. */
export interface MemorySnapshot {
  readonly base: number;
  readonly bytes: Uint8Array;
  /** used->idx of each data queue when the copy was taken. */
  readonly usedIdx: ReadonlyMap<DriverQueue, number>;
}

const u16 = (b: Uint8Array, off: number): number => b[off]! | (b[off + 1]! << 8);
const u32 = (b: Uint8Array, off: number): number => (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, off: number): number => u32(b, off) + u32(b, off + 4) * 2 ** 32;

/** Copies the guest RAM the driver uses (one region) and each queue's used->idx. */
export function snapshot(memory: GuestMemory, queues: readonly DriverQueue[]): MemorySnapshot {
  const r = memory.regions[0]!;
  const bytes = memory.slice(r.guestPhysAddr, r.size)!.slice();
  const usedIdx = new Map(queues.map((q) => [q, u16(bytes, q.usedRing - r.guestPhysAddr + 2)]));
  return { base: r.guestPhysAddr, bytes, usedIdx };
}

/** What audit() found. */
export interface DirtyLogAudit {
  /** Pages whose bytes differ from the snapshot. */
  readonly changedPages: number;
  /** Pages the log holds. */
  readonly loggedPages: number;
  /** Used-ring entries the device wrote since the snapshot, per queue. */
  readonly usedEntries: number;
  /** RX buffers the device filled since the snapshot. */
  readonly rxBuffers: number;
  /** Device writes the log lacks (a page the test knows the device wrote, not marked). */
  readonly missing: readonly string[];
  /** Bytes changed on a page the log lacks that the driver did not write either. */
  readonly unlogged: readonly string[];
}

/**
 * Checks a dirty log against what the device must have written since `before` (the test posted
 * the buffers, so it knows): every used-ring entry and used->idx written (`queues`) and every RX
 * buffer filled (`rxQueues`, through the used entries' descriptors) has its page marked; and no
 * byte changed outside the log except in what the driver itself writes (descriptor tables, avail
 * rings, its TX slots), found by comparing guest memory with the copy.
 */
export function audit(
  memory: GuestMemory,
  before: MemorySnapshot,
  log: DirtyLog,
  queues: readonly DriverQueue[],
  rxQueues: readonly DriverQueue[],
): DirtyLogAudit {
  const base = before.base;
  const now = memory.slice(base, before.bytes.length)!.slice();
  const missing: string[] = [];
  const need = (gpa: number, len: number, what: string): void => {
    for (let p = Math.floor(gpa / PAGE); p <= Math.floor((gpa + len - 1) / PAGE); p++) {
      if (!log.isDirty(p)) missing.push(`${what} at 0x${gpa.toString(16)}+${len}: page ${p} not marked`);
    }
  };
  const driverRanges: [number, number][] = [];
  let usedEntries = 0;
  let rxBuffers = 0;
  for (const q of queues) {
    driverRanges.push([q.descTable, q.descTable + 16 * q.size], [q.availRing, q.availRing + 6 + 2 * q.size]);
    const from = before.usedIdx.get(q)!;
    const to = u16(now, q.usedRing - base + 2);
    const n = (to - from) & 0xffff;
    if (n > q.size) throw new Error(`queue at 0x${q.usedRing.toString(16)}: ${n} used entries since the snapshot, more than its size ${q.size}: audit sooner`);
    if (n > 0) need(q.usedRing + 2, 2, 'used->idx');
    usedEntries += n;
    const rx = rxQueues.includes(q);
    for (let i = 0; i < n; i++) {
      const e = q.usedRing + 4 + 8 * ((from + i) % q.size);
      need(e, 8, 'used ring entry');
      if (!rx) continue;
      const id = u32(now, e - base);
      const len = u32(now, e - base + 4);
      const d = q.descTable + 16 * id - base;
      if (len > 0) need(u64(now, d), len, `RX buffer of descriptor ${id}`);
      rxBuffers++;
    }
    if (!rx) {
      // The driver's TX slots (@vnic/driver bringUpMmio): right after the ring, page aligned, one per entry.
      const pool = Math.ceil((q.usedRing + 6 + 8 * q.size) / PAGE) * PAGE;
      driverRanges.push([pool, pool + DRIVER_BUFFER_MAX.txSlot * q.size]);
    }
  }
  const unlogged: string[] = [];
  let changedPages = 0;
  for (let off = 0; off < now.length; off += PAGE) {
    const end = Math.min(off + PAGE, now.length);
    let first = -1;
    for (let i = off; i < end; i++) {
      if (now[i] === before.bytes[i]) continue;
      if (first < 0) {
        first = i;
        changedPages++;
      }
      const gpa = base + i;
      if (log.isDirty(Math.floor(gpa / PAGE))) break;
      if (driverRanges.some(([a, b]) => gpa >= a && gpa < b)) continue;
      unlogged.push(
        `byte at 0x${gpa.toString(16)} changed (0x${before.bytes[i]!.toString(16)} -> 0x${now[i]!.toString(16)}) on page ${Math.floor(gpa / PAGE)}, which the log lacks`,
      );
      break;
    }
  }
  return { changedPages, loggedPages: log.countDirty(), usedEntries, rxBuffers, missing, unlogged };
}
