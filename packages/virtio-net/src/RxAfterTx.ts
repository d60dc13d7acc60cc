/** The most TX steps a speculative RX read is skipped for after a run of misses. */
const MAX_SKIP = 64;

/**
 * When RX is tried right after a TX step, in the same turn (QueuePairLoop.turn): a frame that left
 * for the tap is often answered at once (the kernel replies to an ARP or ICMP request, or a local
 * peer's reply, inside the tap write), so the reply is readable before the next epoll round would
 * report it. A non-blocking read that finds the tap empty costs a syscall, so misses back off: after
 * each miss the next `skip` TX steps do not try (1, 2, 4, ... up to MAX_SKIP), and a hit tries
 * after every step again. A TX-only stream thus pays one empty read per 64 steps at most.
 */
export class RxAfterTx {
  /** Speculative reads that found a frame. */
  hits = 0;
  /** Speculative reads that found the tap empty. */
  misses = 0;
  private skip = 0;
  private backoff = 0;

  /** A TX step sent frames: true when RX should be tried now. */
  due(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    return false;
  }

  /** The result of the read `due` asked for: `got` true when it delivered a frame. */
  result(got: boolean): void {
    if (got) {
      this.hits++;
      this.backoff = 0;
      return;
    }
    this.misses++;
    this.backoff = this.backoff === 0 ? 1 : Math.min(MAX_SKIP, this.backoff * 2);
    this.skip = this.backoff;
  }
}
