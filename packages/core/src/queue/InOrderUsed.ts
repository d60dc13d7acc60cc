/** Where InOrderUsed.drain hands the buffers it releases (the ring layout writes the used entries). */
export interface InOrderSink {
  /** Buffer `id` leaves the device (in pop order), folded into the next used entry or carried by its own. */
  take(id: number): void;
  /** Writes one used entry: buffer `id` with `len` bytes, standing for every buffer taken since the last one; false stops (ring broken). */
  emit(id: number, len: number): boolean;
}

/**
 * VIRTIO_F_IN_ORDER bookkeeping shared by SplitQueue and PackedQueue (virtio 1.2 §2.7.9, §2.8.8):
 * the buffers in flight in the order they were popped, and which of them the data plane has
 * completed. A completion is handed to the ring only when every buffer popped before it has been
 * (a malformed chain popped behind buffers still in flight, an RX chain returned unused, a TX
 * frame that left ahead of one the tap refused: each waits), so the driver sees buffers used in
 * the order it made them available, whatever order the data plane finished them in.
 *
 * Batches: a run of buffers with nothing device-writable (TX frames, length 0) is written as one
 * used entry carrying the last buffer's id, which the driver expands (the spec's batch). A buffer
 * with device-writable bytes always gets its own entry, even when filled: drivers (DPDK's in-order
 * RX path) read every used entry's length instead of inferring it, and a malformed chain (length
 * 0 whatever it declared) too. Nothing is allocated after construction.
 */
export class InOrderUsed {
  private readonly size: number;
  private readonly ids: Uint16Array;
  private readonly done: Uint8Array;
  /** 1: a good chain with nothing device-writable (may be folded into the next entry when its length is 0). */
  private readonly foldable: Uint8Array;
  private readonly lens: Float64Array;
  private head = 0;
  private count = 0;

  /** @param size the queue size (most buffers in flight) */
  constructor(size: number) {
    this.size = size;
    this.ids = new Uint16Array(size);
    this.done = new Uint8Array(size);
    this.foldable = new Uint8Array(size);
    this.lens = new Float64Array(size);
  }

  /** Buffers popped and not yet handed to the ring. */
  get length(): number {
    return this.count;
  }

  /** Forgets every buffer (reset, setState). */
  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  /** Buffer `id` was popped (after every buffer pushed so far); `foldable`: a good chain with no device-writable bytes. */
  push(id: number, foldable: boolean): void {
    if (this.count === this.size) return; // more in flight than the ring holds: the queue is broken already
    const at = (this.head + this.count) % this.size;
    this.ids[at] = id;
    this.done[at] = 0;
    this.foldable[at] = foldable ? 1 : 0;
    this.count++;
  }

  /** unpop: forgets the buffer popped last when it is not completed (and is `id`, when given); false otherwise (nothing changes). */
  dropLast(id = -1): boolean {
    if (this.count === 0) return false;
    const at = (this.head + this.count - 1) % this.size;
    if ((id >= 0 && this.ids[at] !== id) || this.done[at] !== 0) return false;
    this.count--;
    return true;
  }

  /** Records that buffer `id` was used with `len` bytes; false when it is not in flight (ignored). */
  complete(id: number, len: number): boolean {
    for (let k = 0; k < this.count; k++) {
      const at = (this.head + k) % this.size;
      if (this.ids[at] !== id || this.done[at] !== 0) continue;
      this.done[at] = 1;
      this.lens[at] = len;
      return true;
    }
    return false;
  }

  /**
   * Hands every completed buffer at the front of the order to `sink`, oldest first: `take` for
   * each, `emit` once per used entry (a foldable buffer of length 0 followed by another completed
   * one is folded into it). Returns false when `emit` did (the rest stays).
   */
  drain(sink: InOrderSink): boolean {
    while (this.count > 0 && this.done[this.head] === 1) {
      const at = this.head;
      const id = this.ids[at]!;
      const len = this.lens[at]!;
      const fold = this.foldable[at] === 1 && len === 0;
      this.head = (this.head + 1) % this.size;
      this.count--;
      sink.take(id);
      if (fold && this.count > 0 && this.done[this.head] === 1) continue;
      if (!sink.emit(id, len)) return false;
    }
    return true;
  }
}
