import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { ChainArena } from './ChainArena.ts';
import type { Descriptor } from './Descriptor.ts';

/**
 * A validated descriptor chain popped from a split queue: device-readable buffers first, then
 * device-writable ones (§2.7.4.2). Every address was checked against guest memory at pop time; the
 * chain still borrows memory on each access and re-checks, because the map may change on reset.
 */
export class DescriptorChain {
  /** Head descriptor index: the id to return in the used ring. */
  readonly head: number;
  /** Buffers in chain order (indirect tables flattened). */
  readonly descriptors: readonly Descriptor[];
  /** Total bytes of the device-readable buffers. */
  readonly readableLength: number;
  /** Total bytes of the device-writable buffers. */
  readonly writableLength: number;
  /** Index of the first writable descriptor (`descriptors.length` when none). */
  readonly firstWritable: number;

  constructor(head: number, descriptors: readonly Descriptor[]) {
    this.head = head;
    this.descriptors = descriptors;
    let r = 0;
    let w = 0;
    let first = descriptors.length;
    for (let i = 0; i < descriptors.length; i++) {
      const d = descriptors[i]!;
      if (d.writable) {
        if (first === descriptors.length) first = i;
        w += d.len;
      } else {
        r += d.len;
      }
    }
    this.readableLength = r;
    this.writableLength = w;
    this.firstWritable = first;
  }

  /** Chain `c` of `arena` as a DescriptorChain (what pop() returns; the arena's chain is copied). */
  static fromArena(arena: ChainArena, c: number): DescriptorChain {
    const descs: Descriptor[] = [];
    const first = arena.descStart[c]!;
    const w = first + arena.firstWritable[c]!;
    for (let i = first; i < first + arena.descCount[c]!; i++) descs.push({ addr: arena.addr[i]!, len: arena.len[i]!, writable: i >= w });
    return new DescriptorChain(arena.head[c]!, descs);
  }

  /**
   * Copies device-readable bytes, starting `offset` bytes into the readable part, into `dst`.
   * Returns the number of bytes copied (short when the chain or `dst` ends first; 0 when `offset`
   * is not a non-negative integer).
   */
  readInto(mem: GuestMemory, dst: Uint8Array, offset = 0): number {
    return this.copy(mem, dst, offset, false);
  }

  /** All device-readable bytes, copied. */
  readAll(mem: GuestMemory): Uint8Array {
    const out = new Uint8Array(this.readableLength);
    const n = this.readInto(mem, out);
    return n === out.length ? out : out.subarray(0, n);
  }

  /**
   * Copies `src` into the device-writable buffers, starting `offset` bytes into the writable part.
   * Returns the number of bytes written (short when the buffers end first; 0 when `offset` is not a
   * non-negative integer).
   */
  writeFrom(mem: GuestMemory, src: Uint8Array, offset = 0): number {
    return this.copy(mem, src, offset, true);
  }

  private copy(mem: GuestMemory, buf: Uint8Array, offset: number, toGuest: boolean): number {
    // A negative offset would start the copy before the first buffer (outside the chain).
    if (!Number.isSafeInteger(offset) || offset < 0) return 0;
    let skip = offset;
    let done = 0;
    const start = toGuest ? this.firstWritable : 0;
    const end = toGuest ? this.descriptors.length : this.firstWritable;
    for (let i = start; i < end && done < buf.length; i++) {
      const d = this.descriptors[i]!;
      if (skip >= d.len) {
        skip -= d.len;
        continue;
      }
      // chunk() stops at a window edge (regions of more than 1 GiB): the loop goes on from there.
      const n = Math.min(d.len - skip, buf.length - done);
      const view = mem.chunk(d.addr + skip, n);
      if (view === undefined) break;
      const got = view.length;
      if (toGuest) view.set(buf.subarray(done, done + got));
      else buf.set(view, done);
      done += got;
      if (got < n) {
        skip += got;
        i--;
      } else {
        skip = 0;
      }
    }
    return done;
  }
}
