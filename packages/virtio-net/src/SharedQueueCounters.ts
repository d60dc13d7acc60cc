import type { QueueState } from '@vnic/core';
import type { QueueCounters } from './QueueCounters.ts';

/** Bytes per queue: an Int32 header (seq, nextAvail, nextUsed, state flags) and seven float64 counters. */
const SLOT = 72;
const INTS = SLOT / 4;
const FLOATS = SLOT / 8;
const FIRST_FLOAT = 2; // 16 bytes of header
const MAX_TRIES = 1_000_000;

/**
 * Per-queue counters and ring positions in a SharedArrayBuffer: written by the one IO thread
 * that owns the queue, read by any thread. Each slot is a seqlock (an odd sequence number while a
 * write is in progress; readers retry), so a reader never sees half of an update. Counters are
 * float64 (exact up to 2^53). The ring positions are the point to resume from if the IO thread
 * dies (held RX buffers already given back).
 */
export class SharedQueueCounters {
  /** The shared memory (postMessage it to the IO threads). */
  readonly buffer: SharedArrayBuffer;
  /** Number of queue slots. */
  readonly count: number;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;

  /** A new block for `queues` queues, or a view of an existing `buffer`. */
  constructor(source: number | SharedArrayBuffer) {
    this.buffer = typeof source === 'number' ? new SharedArrayBuffer(Math.max(1, source) * SLOT) : source;
    this.count = this.buffer.byteLength / SLOT;
    this.ints = new Int32Array(this.buffer);
    this.floats = new Float64Array(this.buffer);
  }

  /** Publishes queue `index`'s counters and, when given, its ring positions (single writer). */
  publish(index: number, c: QueueCounters, ring?: QueueState): void {
    const i = index * INTS;
    const f = index * FLOATS + FIRST_FLOAT;
    const ints = this.ints;
    const floats = this.floats;
    const seq = Atomics.add(ints, i, 1) + 1; // odd: writing
    floats[f] = c.packets;
    floats[f + 1] = c.bytes;
    floats[f + 2] = c.drops;
    floats[f + 3] = c.malformed;
    floats[f + 4] = c.noBuffer;
    floats[f + 5] = c.filtered;
    floats[f + 6] = c.txWaits;
    if (ring !== undefined) {
      ints[i + 1] = ring.nextAvail;
      ints[i + 2] = ring.nextUsed;
      ints[i + 3] = ringFlags(ring);
    }
    Atomics.store(ints, i, seq + 1); // even: stable
  }

  /** A consistent copy of queue `index`'s counters. */
  read(index: number): QueueCounters {
    const out: QueueCounters = { packets: 0, bytes: 0, drops: 0, malformed: 0, noBuffer: 0, filtered: 0, txWaits: 0 };
    this.readSlot(index, out);
    return out;
  }

  /** The last published ring positions of queue `index`, or undefined when none was published. */
  ring(index: number): QueueState | undefined {
    const out: QueueCounters = { packets: 0, bytes: 0, drops: 0, malformed: 0, noBuffer: 0, filtered: 0, txWaits: 0 };
    return this.readSlot(index, out);
  }

  /** Forgets the ring positions of queue `index` (a new activation starts from its own state). */
  clearRing(index: number): void {
    const i = index * INTS;
    const seq = Atomics.add(this.ints, i, 1) + 1;
    this.ints[i + 3] = 0;
    Atomics.store(this.ints, i, seq + 1);
  }

  private readSlot(index: number, out: QueueCounters): QueueState | undefined {
    const i = index * INTS;
    const f = index * FLOATS + FIRST_FLOAT;
    const ints = this.ints;
    const floats = this.floats;
    for (let tries = 0; ; tries++) {
      const before = Atomics.load(ints, i);
      // A write in progress takes a few ns; a writer killed mid-write must not hang the reader.
      if ((before & 1) !== 0 && tries < MAX_TRIES) continue;
      out.packets = floats[f]!;
      out.bytes = floats[f + 1]!;
      out.drops = floats[f + 2]!;
      out.malformed = floats[f + 3]!;
      out.noBuffer = floats[f + 4]!;
      out.filtered = floats[f + 5]!;
      out.txWaits = floats[f + 6]!;
      const ring = ringOf(ints[i + 3]!, ints[i + 1]!, ints[i + 2]!);
      if (Atomics.load(ints, i) === before || tries >= MAX_TRIES) return ring;
    }
  }
}

/** State flags: HAS_STATE, and for a packed ring PACKED with its two wrap counters. */
const HAS_STATE = 1;
const PACKED = 2;
const AVAIL_WRAP = 4;
const USED_WRAP = 8;

function ringFlags(ring: QueueState): number {
  if (ring.availWrap === undefined && ring.usedWrap === undefined) return HAS_STATE;
  return HAS_STATE | PACKED | ((ring.availWrap ?? true) ? AVAIL_WRAP : 0) | ((ring.usedWrap ?? true) ? USED_WRAP : 0);
}

function ringOf(flags: number, nextAvail: number, nextUsed: number): QueueState | undefined {
  if ((flags & HAS_STATE) === 0) return undefined;
  if ((flags & PACKED) === 0) return { nextAvail, nextUsed };
  return { nextAvail, nextUsed, availWrap: (flags & AVAIL_WRAP) !== 0, usedWrap: (flags & USED_WRAP) !== 0 };
}
