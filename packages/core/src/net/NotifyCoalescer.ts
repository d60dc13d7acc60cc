import type { NetCoalParams } from './NetCoalParams.ts';

/**
 * The notification decision of one data queue under VIRTIO_NET_F_NOTF_COAL (virtio 1.3
 * §5.1.6.5.9.1), pure (the caller passes the clock, microseconds): frames completed since the
 * last notification are counted from the first one on; the notification is due when `maxPackets`
 * of them are pending or `maxUsecs` have passed since the first, whichever is first. Either
 * parameter 0 means a notification per frame. The caller notifies when `add` or `expire` says so
 * and arms a timer for `deadline` when frames are held back: a frame never waits longer than
 * `maxUsecs` for the timer, not for the next frame.
 */
export class NotifyCoalescer {
  #maxPackets = 0;
  #maxUsecs = 0;
  #pending = 0;
  #deadline = 0;

  /** Frames completed and not yet notified. */
  get pending(): number {
    return this.#pending;
  }

  /** True when every frame is notified at once (either parameter 0). */
  get off(): boolean {
    return this.#maxPackets === 0 || this.#maxUsecs === 0;
  }

  /** The time (µs, the caller's clock) the held frames must be notified by; undefined when none is held. */
  get deadline(): number | undefined {
    return this.#pending === 0 ? undefined : this.#deadline;
  }

  /** The parameters in force. */
  get params(): NetCoalParams {
    return { maxPackets: this.#maxPackets, maxUsecs: this.#maxUsecs };
  }

  /**
   * New parameters at `now`. Returns true when the held frames meet the new conditions (the
   * notification is due now, §5.1.6.5.9.4); the deadline of held frames moves to first + maxUsecs.
   */
  set(p: NetCoalParams, now: number): boolean {
    const first = this.#deadline - this.#maxUsecs;
    this.#maxPackets = p.maxPackets;
    this.#maxUsecs = p.maxUsecs;
    if (this.#pending === 0) return false;
    this.#deadline = first + p.maxUsecs;
    return this.#due(now);
  }

  /** `n` frames completed at `now`; true when the notification is due (the count starts over). */
  add(n: number, now: number): boolean {
    if (n <= 0) return false;
    if (this.#pending === 0) this.#deadline = now + this.#maxUsecs;
    this.#pending += n;
    return this.#due(now);
  }

  /** The timer fired (or the caller looks) at `now`: true when held frames are due. */
  expire(now: number): boolean {
    return this.#pending > 0 && this.#due(now);
  }

  /** Forgets the held frames (the caller notified for them some other way, or the queue stopped). */
  clear(): void {
    this.#pending = 0;
  }

  #due(now: number): boolean {
    if (this.off || this.#pending >= this.#maxPackets || now >= this.#deadline) {
      this.#pending = 0;
      return true;
    }
    return false;
  }
}
