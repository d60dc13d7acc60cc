import type { GuestMemory } from '@vnic/core';
import type { DriverRing } from './DriverRing.ts';
import { DriverError } from './DriverError.ts';

/**
 * The buffers of one driver queue: `count` slots of `size` bytes from `base` in guest memory,
 * which are free, or in flight under the head descriptor the ring gave them.
 */
export class DriverBufferPool {
  /** Bytes per buffer. */
  readonly size: number;
  readonly #addr: number[];
  readonly #free: number[];
  readonly #byHead = new Map<number, number>();
  readonly #name: string;
  readonly #index: number;

  /**
   * @param base guest address of the first buffer
   * @param size bytes per buffer
   * @param count number of buffers
   * @param owner the device's name and the queue's index, for messages
   */
  constructor(base: number, size: number, count: number, owner: { readonly name: string; readonly index: number }) {
    this.size = size;
    this.#addr = Array.from({ length: count }, (_, k) => base + k * size);
    this.#free = Array.from({ length: count }, (_, k) => count - 1 - k);
    this.#name = owner.name;
    this.#index = owner.index;
  }

  /** Buffers handed to the device and not returned yet. */
  get inFlight(): number {
    return this.#byHead.size;
  }

  /** Guest address of buffer `id`. */
  addr(id: number): number {
    return this.#addr[id]!;
  }

  /** Takes a free buffer (undefined when none is left). */
  alloc(): number | undefined {
    return this.#free.pop();
  }

  /** Gives buffer `id` back to the free list. */
  free(id: number): void {
    this.#free.push(id);
  }

  /** Records that buffer `id` is in flight under descriptor `head`. */
  bind(head: number, id: number): void {
    this.#byHead.set(head, id);
  }

  /** The buffer the device returned under `head` (no longer in flight); throws when `head` carries none. */
  take(head: number): number {
    const id = this.#byHead.get(head);
    if (id === undefined) throw new DriverError('device-failed', `device ${this.#name} returned head ${head} on queue ${this.#index}, which has no buffer`);
    this.#byHead.delete(head);
    return id;
  }

  /** Hands buffer `id` to the device again as one writable descriptor (an RX buffer); back to the free list when the ring is full. */
  postWritable(mem: GuestMemory, q: DriverRing, id: number): void {
    const head = q.add(mem, [{ addr: this.#addr[id]!, len: this.size, writable: true }]);
    if (head === undefined) this.#free.push(id);
    else this.#byHead.set(head, id);
  }

  /** Pops every used element of `q`, freeing the buffers they carried; returns how many (malformed returns included). */
  reclaim(mem: GuestMemory, q: DriverRing): number {
    let n = 0;
    for (let e = q.popUsed(mem); e !== undefined; e = q.popUsed(mem)) {
      const id = this.#byHead.get(e.id);
      if (id !== undefined) {
        this.#byHead.delete(e.id);
        this.#free.push(id);
      }
      n++;
    }
    return n;
  }
}
