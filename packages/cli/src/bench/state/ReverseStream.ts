import type { StreamCount } from './StreamCount.ts';
import type { SwitchTap } from './SwitchTap.ts';
import { UDP_STREAM } from './UDP_STREAM.ts';
import { udpFrame } from './udpFrame.ts';
import { udpSeq } from './udpSeq.ts';

/**
 * The tap -> guest direction of a SteadyStream: sequence-numbered UDP frames (to
 * UDP_STREAM.reversePort, sizes 64..1000) sent into a SwitchTap's interface from its packet socket
 * in the namespace (the kernel queues them on the tap for whichever backend reads it), counted by
 * sequence number when the guest receives them (SteadyStream hands it what its own count does not
 * take). Frames the socket refuses (buffer full) are not counted as sent and are retried.
 */
export class ReverseStream {
  readonly #tap: SwitchTap;
  readonly #dst: Uint8Array;
  readonly #src: Uint8Array;
  readonly #seen = new Map<number, number>();
  #next = 1;
  /** Sequence number of the first frame sent after mark() and of the first frame seen after it. */
  readonly #marks: { readonly from: number; firstSeen: number | undefined }[] = [];

  /** Frames from `src` to the guest's MAC `dst`, sent on `tap`. */
  constructor(tap: SwitchTap, dst: Uint8Array, src: Uint8Array) {
    this.#tap = tap;
    this.#dst = dst;
    this.#src = src;
  }

  /** Sends up to `n` frames (fewer when the socket buffer is full). */
  send(n: number): void {
    for (let i = 0; i < n; i++) {
      const seq = this.#next;
      if (!this.#tap.sock.send(udpFrame(this.#dst, this.#src, seq, 64 + ((seq * 53) % 936), UDP_STREAM.reversePort))) return;
      this.#next++;
    }
  }

  /** Counts `f` when it is one of this stream's frames (payload checked); false for any other frame. */
  take(f: Uint8Array): boolean {
    const seq = udpSeq(f, UDP_STREAM.reversePort);
    if (seq === undefined) return false;
    this.#seen.set(seq, (this.#seen.get(seq) ?? 0) + 1);
    for (const m of this.#marks) if (m.firstSeen === undefined && seq >= m.from) m.firstSeen = seq;
    return true;
  }

  /** Frames sent so far. */
  get sent(): number {
    return this.#next - 1;
  }

  /** True once every frame sent so far arrived. */
  get complete(): boolean {
    return this.#seen.size >= this.sent;
  }

  /** The lowest sequence number not received by the guest yet (sent + 1 when all were); call after a drain. */
  oldestUnseen(): number {
    for (let q = Math.max(1, this.#next - 4096); q < this.#next; q++) if (!this.#seen.has(q)) return q;
    return this.#next;
  }

  /** Remembers the next sequence number: `seenSince(mark)` tells when a frame sent after it arrived. */
  mark(): number {
    this.#marks.push({ from: this.#next, firstSeen: undefined });
    return this.#marks.length - 1;
  }

  /** True once a frame sent after mark `m` reached the guest. */
  seenSince(m: number): boolean {
    return this.#marks[m]?.firstSeen !== undefined;
  }

  /** The count so far (`atTap` is 0: every frame of this stream starts there). */
  count(): StreamCount {
    let duplicates = 0;
    for (const n of this.#seen.values()) duplicates += n - 1;
    const lost: number[] = [];
    for (let s = 1; s <= this.sent; s++) if (!this.#seen.has(s)) lost.push(s);
    return { sent: this.sent, atTap: 0, atGuest: this.#seen.size, duplicates, lost };
  }
}
