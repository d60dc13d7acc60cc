import type { VirtioNetDriver } from '@vnic/driver';
import { waitUntil } from '@vnic/sys/testing';
import type { ReverseStream } from './ReverseStream.ts';
import type { StreamCount } from './StreamCount.ts';
import type { SwitchTap } from './SwitchTap.ts';
import { udpFrame } from './udpFrame.ts';
import { udpSeq } from './udpSeq.ts';

/**
 * A steady stream from the guest on pair 0: every `periodMs` a batch of `batch` UDP frames (sizes
 * 64..1000), while the guest's RX and the taps' sockets are drained and every frame counted by
 * sequence number. Frames the ring refuses (full) are not counted as sent and are retried. With a
 * `reverse` stream, each batch also sends as many frames tap -> guest, counted by that stream.
 */
export class SteadyStream {
  readonly #driver: VirtioNetDriver;
  readonly #mac: Uint8Array;
  readonly #peer: Uint8Array;
  readonly #taps: SwitchTap[];
  readonly #reverse: ReverseStream | undefined;
  readonly #seen = new Map<number, number>();
  #atTap = 0;
  #atGuest = 0;
  #next = 1;
  #running = false;
  #loop: Promise<void> | undefined;
  /** Sequence number of the first frame sent after mark() and of the first frame seen after it. */
  #marks: { readonly from: number; firstSeen: number | undefined }[] = [];

  constructor(driver: VirtioNetDriver, mac: Uint8Array, peer: Uint8Array, taps: readonly SwitchTap[], reverse?: ReverseStream) {
    this.#driver = driver;
    this.#mac = mac;
    this.#peer = peer;
    this.#taps = [...taps];
    this.#reverse = reverse;
  }

  /** Starts sending. */
  start(batch = 4, periodMs = 2): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        this.#driver.reclaim(0);
        for (let i = 0; i < batch; i++) {
          const seq = this.#next;
          if (!this.#driver.send(udpFrame(this.#peer, this.#mac, seq, 64 + ((seq * 37) % 936)))) break;
          this.#next++;
        }
        this.#reverse?.send(batch);
        this.drain();
        await new Promise((r) => setTimeout(r, periodMs));
      }
    })();
  }

  /** Frames queued so far. */
  get sent(): number {
    return this.#next - 1;
  }

  /** Frames seen so far (anywhere). */
  get seen(): number {
    return this.#seen.size;
  }

  /** Remembers the next sequence number: `seenSince(mark)` tells when a frame sent after it arrived. */
  mark(): number {
    this.#marks.push({ from: this.#next, firstSeen: undefined });
    return this.#marks.length - 1;
  }

  /** True once a frame sent after mark `m` arrived somewhere. */
  seenSince(m: number): boolean {
    return this.#marks[m]?.firstSeen !== undefined;
  }

  /** The lowest sequence number not seen yet (frames still in a ring or in a peer), after a drain. */
  oldestUnseen(): number {
    this.drain();
    let s = this.#next;
    for (let q = this.#next - 1; q >= 1 && q >= this.#next - 4096; q--) if (!this.#seen.has(q)) s = q;
    return s;
  }

  /** Takes what arrived at the guest and at the taps. */
  drain(): void {
    for (let r = this.#driver.tryReceive(0); r !== undefined; r = this.#driver.tryReceive(0)) {
      if (this.#count(r.frame)) this.#atGuest++;
      else this.#reverse?.take(r.frame);
    }
    for (const t of this.#taps) t.drain((f) => void (this.#count(f) && this.#atTap++));
  }

  /** Stops sending, waits (up to `timeoutMs`) for every frame (of both directions) to arrive, returns the count. */
  async stop(timeoutMs = 5000): Promise<StreamCount> {
    this.#running = false;
    await this.#loop;
    await waitUntil(
      () => {
        this.drain();
        return this.#seen.size >= this.sent && (this.#reverse?.complete ?? true);
      },
      'every stream frame to arrive',
      timeoutMs,
    ).catch(() => undefined);
    return this.count();
  }

  /**
   * Drains every `pollMs` (0: every turn of the event loop, setImmediate) until `cond()` holds;
   * rejects naming `what` after `timeoutMs`.
   */
  async waitFor(cond: () => boolean, what: string, pollMs = 2, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.drain();
      if (cond()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => (pollMs === 0 ? setImmediate(r) : setTimeout(r, pollMs)));
    }
  }

  /** The count so far. */
  count(): StreamCount {
    let duplicates = 0;
    for (const n of this.#seen.values()) duplicates += n - 1;
    const lost: number[] = [];
    for (let s = 1; s <= this.sent; s++) if (!this.#seen.has(s)) lost.push(s);
    return { sent: this.sent, atTap: this.#atTap, atGuest: this.#atGuest, duplicates, lost };
  }

  /** The first sequence number of each mark and the first one seen after it. */
  get marks(): readonly { readonly from: number; readonly firstSeen: number | undefined }[] {
    return this.#marks;
  }

  #count(f: Uint8Array): boolean {
    const seq = udpSeq(f);
    if (seq === undefined) return false;
    this.#seen.set(seq, (this.#seen.get(seq) ?? 0) + 1);
    for (const m of this.#marks) if (m.firstSeen === undefined && seq >= m.from) m.firstSeen = seq;
    return true;
  }
}
