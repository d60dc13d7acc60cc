import type { PacketSocket } from '@vnic/sys';
import type { Netns } from '@vnic/sys/testing';
import { expect } from 'vitest';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** IEEE 802 local experimental ethertype: nothing in the namespace answers or sends it. */
const ETHERTYPE = 0x88b5;
const MAGIC = 0x766e6963; // "vnic"
/** Sequence numbers of waitForwarding's probes (test frames stay below). */
const PROBE_SEQ = 0xf000_0000;

/**
 * The namespace side of a tap a vhost-user device serves: an AF_PACKET socket on the tap inside
 * its throw-away namespace. `inject` sends frames towards the frontend, `collect` gathers the
 * frames the frontend sent back. DeviceTapSide adds an in-process server; a test of `vnic serve`
 * processes uses this alone.
 */
export class TapSide {
  readonly ns: Netns;
  readonly tapName: string;
  readonly sock: PacketSocket;
  private readonly buf = new Uint8Array(65536);

  constructor(ns: Netns, tapName: string, sock: PacketSocket) {
    this.ns = ns;
    this.tapName = tapName;
    this.sock = sock;
  }

  /** A test frame: dst, src, ETHERTYPE, MAGIC, u32 seq, then `len` bytes in total of a pattern. */
  static frame(seq: number, len = 64): Uint8Array {
    const f = new Uint8Array(len);
    f.set([0x02, 0, 0, 0, 0xdd, 0x01, 0x02, 0, 0, 0, 0x55, 0x02]);
    const v = new DataView(f.buffer);
    v.setUint16(12, ETHERTYPE);
    v.setUint32(14, MAGIC);
    v.setUint32(18, seq);
    for (let i = 22; i < len; i++) f[i] = (seq + i) & 0xff;
    return f;
  }

  /** The sequence number of a test frame, or undefined for any other frame. */
  static seqOf(f: Uint8Array): number | undefined {
    if (f.length < 22) return undefined;
    const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
    return v.getUint16(12) === ETHERTYPE && v.getUint32(14) === MAGIC ? v.getUint32(18) : undefined;
  }

  /** Sends frames from the namespace side into the tap (vnic reads them and hands them to the frontend). */
  inject(frames: readonly Uint8Array[]): void {
    for (const f of frames) if (!this.sock.send(f)) throw new Error(`${this.tapName}: packet socket buffer full`);
  }

  /**
   * Collects test frames the frontend sent until `count` arrived (rejects after `timeoutMs`);
   * `want` filters by sequence number (frames still queued from an earlier connection are ignored).
   */
  async collect(count: number, timeoutMs = 10_000, want: (seq: number) => boolean = () => true): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      const n = this.sock.recv(this.buf);
      if (n > 0) {
        const f = this.buf.slice(0, n);
        const seq = TapSide.seqOf(f);
        if (seq !== undefined && want(seq)) out.push(f);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${this.tapName}: ${out.length}/${count} frames came back after ${timeoutMs} ms`);
      await sleep(2);
    }
    return out;
  }

  /**
   * Waits until the frontend's data path forwards: sends a probe frame (sequence numbers from
   * PROBE_SEQ up) every 20 ms until one comes back, then drops what is queued. testpmd drops what
   * its TX path is handed during its first second or so (RX-packets rise, TX-packets stay 0), as
   * a NIC drops frames before its link is up: exact round trips start after this.
   */
  async waitForwarding(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let seq = PROBE_SEQ; ; seq++) {
      this.inject([TapSide.frame(seq)]);
      try {
        await this.collect(1, 20, (s) => s >= PROBE_SEQ);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`${this.tapName}: no probe frame came back within ${timeoutMs} ms`);
      }
    }
    await sleep(50);
    this.drain();
  }

  /** Drops queued frames. */
  drain(): void {
    while (this.sock.recv(this.buf) > 0);
  }

  /**
   * Injects `count` test frames from `seq0` and expects each back with its MACs swapped (testpmd
   * macswap), byte for byte; frames still queued from an earlier connection are ignored.
   */
  async macswapRoundTrip(seq0: number, count: number, len = 64): Promise<void> {
    const sent = Array.from({ length: count }, (_, i) => TapSide.frame(seq0 + i, len));
    this.inject(sent);
    const got = await this.collect(count, 10_000, (seq) => seq >= seq0 && seq < seq0 + count);
    got.sort((a, b) => TapSide.seqOf(a)! - TapSide.seqOf(b)!);
    expect(got.map((f) => Buffer.from(f).toString('hex'))).toEqual(sent.map((f) => Buffer.from(macSwapped(f)).toString('hex')));
  }
}

/** The frame with its two MAC addresses swapped (what testpmd macswap sends back). */
export function macSwapped(f: Uint8Array): Uint8Array {
  const out = f.slice();
  out.set(f.subarray(6, 12), 0);
  out.set(f.subarray(0, 6), 6);
  return out;
}
