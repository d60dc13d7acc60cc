import { IoUring } from './IoUring.ts';

/**
 * SQPOLL rings that share one kernel SQ thread (IORING_SETUP_ATTACH_WQ): the first ring of the
 * group starts the thread, each later one attaches to a ring of the group still open. There is no
 * anchor ring: the kernel thread ends when the group's last ring is closed, so an empty group
 * leaves no thread (and no fd) behind. The SQ thread polls an empty ring for `idleMs` before it
 * sleeps (the idle of the ring that started it).
 */
export class SqPollGroup {
  /** Milliseconds the group's SQ thread polls before it sleeps (sq_thread_idle). */
  readonly idleMs: number;
  readonly #rings: IoUring[] = [];

  constructor(idleMs: number) {
    this.idleMs = idleMs;
  }

  /** Open rings of the group. */
  get size(): number {
    return this.#rings.filter((r) => !r.isClosed).length;
  }

  /**
   * A new SQPOLL ring of `entries` on the group's SQ thread (started now if the group has no open
   * ring). Close it with `release`. Throws what IoUring.create throws.
   */
  create(entries: number): IoUring {
    const live = this.#rings.filter((r) => !r.isClosed);
    this.#rings.length = 0;
    this.#rings.push(...live);
    const peer = live[0];
    const ring = IoUring.create(entries, { sqPollIdleMs: this.idleMs, ...(peer === undefined ? {} : { attachTo: peer.fd }) });
    this.#rings.push(ring);
    return ring;
  }

  /** Closes `ring` and forgets it; the SQ thread ends with the group's last ring. */
  release(ring: IoUring): void {
    const i = this.#rings.indexOf(ring);
    if (i >= 0) this.#rings.splice(i, 1);
    ring.close();
  }
}
