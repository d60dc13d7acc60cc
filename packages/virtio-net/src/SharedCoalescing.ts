import type { NetCoalParams } from '@vnic/core';

const SEQ = 0;
const HEADER = 2; // Int32 words before the table: seq, spare
const MAX_TRIES = 1_000_000;

/**
 * The notification-coalescing parameters each data queue of a device runs with (virtio 1.3
 * §5.1.6.5.9: `max_packets`, `max_usecs` per virtqueue), in a SharedArrayBuffer the main thread
 * writes (the guest's VIRTIO_NET_CTRL_NOTF_COAL commands, the VMM's setCoalescing) and the IO
 * threads read without any message: a seqlock over two u32 per queue (vqn order), and a version
 * a reader polls with one Atomics.load to learn that something changed.
 */
export class SharedCoalescing {
  /** The shared memory (post it to the IO threads). */
  readonly buffer: SharedArrayBuffer;
  /** Data queues covered (2 per queue pair). */
  readonly queues: number;
  private readonly ints: Int32Array;
  private readonly table: Uint32Array;

  /** A block for `queues` data queues, every parameter 0 (off), or a view of an existing `buffer`. */
  constructor(queues: number, buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(4 * (HEADER + 2 * queues));
    this.queues = Math.floor(this.buffer.byteLength / 4 - HEADER) >> 1;
    this.ints = new Int32Array(this.buffer);
    this.table = new Uint32Array(this.buffer, 4 * HEADER, 2 * this.queues);
  }

  /** Changes (by 2) on every publish; odd while one is being written. */
  get version(): number {
    return Atomics.load(this.ints, SEQ);
  }

  /** Publishes the parameters of every data queue: `paramsOf(vqn)` for vqn 0..queues-1 (main thread). */
  publish(paramsOf: (vqn: number) => NetCoalParams): void {
    const ints = this.ints;
    const seq = Atomics.add(ints, SEQ, 1) + 1; // odd: writing
    for (let vqn = 0; vqn < this.queues; vqn++) {
      const p = paramsOf(vqn);
      this.table[2 * vqn] = p.maxPackets;
      this.table[2 * vqn + 1] = p.maxUsecs;
    }
    Atomics.store(ints, SEQ, seq + 1);
  }

  /** Queue `vqn`'s parameters, read consistently (all 0 for a queue beyond the block). */
  read(vqn: number): NetCoalParams {
    if (!(vqn >= 0 && vqn < this.queues)) return { maxPackets: 0, maxUsecs: 0 };
    const ints = this.ints;
    for (let tries = 0; ; tries++) {
      const before = Atomics.load(ints, SEQ);
      if ((before & 1) !== 0 && tries < MAX_TRIES) continue;
      const maxPackets = this.table[2 * vqn]!;
      const maxUsecs = this.table[2 * vqn + 1]!;
      if (Atomics.load(ints, SEQ) === before || tries >= MAX_TRIES) return { maxPackets, maxUsecs };
    }
  }
}
