import type { VirtioNetDriver } from '@vnic/driver';
import { PacketSocket, Tap } from '@vnic/sys';
import { Netns, uniqueName, waitUntil } from '@vnic/sys/testing';

// What the backend-switch tests share: a tap the test owns in a throw-away namespace (its fd
// handed to every virtio-net / vhost-net device as `tapFds`, so the interface and its queue
// outlive each device) and a steady, sequence-numbered UDP stream from the guest whose every frame
// is counted where it ends up (the tap's packet socket in the namespace, or back at the guest when
// a vhost-user backend reflects it).

const ETH_IPV4 = 0x0800;
const UDP_PORT = 9999;
const HEADERS = 14 + 20 + 8;

/** An Ethernet + IPv4 + UDP frame to port 9999 whose payload starts with `seq` (u32 BE); `size` >= 46. */
export function udpFrame(dst: Uint8Array, src: Uint8Array, seq: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  const v = new DataView(f.buffer);
  f.set(dst, 0);
  f.set(src, 6);
  v.setUint16(12, ETH_IPV4);
  f[14] = 0x45;
  v.setUint16(16, size - 14);
  v.setUint16(18, seq & 0xffff);
  f[22] = 64;
  f[23] = 17;
  f.set([10, 99, 0, 2], 26);
  f.set([10, 99, 0, 1], 30);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(24, ~sum & 0xffff);
  v.setUint16(34, 40000);
  v.setUint16(36, UDP_PORT);
  v.setUint16(38, size - 34);
  v.setUint32(HEADERS, seq);
  for (let i = HEADERS + 4; i < size; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

/** The sequence number of a stream frame, or undefined for any other frame (payload checked). */
export function udpSeq(f: Uint8Array): number | undefined {
  if (f.length < HEADERS + 4) return undefined;
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (v.getUint16(12) !== ETH_IPV4 || f[23] !== 17 || v.getUint16(36) !== UDP_PORT) return undefined;
  const seq = v.getUint32(HEADERS);
  for (let i = HEADERS + 4; i < f.length; i++) if (f[i] !== ((seq * 7 + i) & 0xff)) throw new Error(`stream frame ${seq}: payload byte ${i} corrupted`);
  return seq;
}

/** A tap the test owns, in its own namespace, with a packet socket on it there. */
export class SwitchTap {
  readonly ns: Netns;
  readonly tap: Tap;
  readonly sock: PacketSocket;
  readonly #buf = new Uint8Array(65536);

  private constructor(ns: Netns, tap: Tap, sock: PacketSocket) {
    this.ns = ns;
    this.tap = tap;
    this.sock = sock;
  }

  /** Creates the namespace and the tap (IFF_VNET_HDR, multi-queue), moves the tap in, brings it up. */
  static create(): SwitchTap {
    const ns = Netns.create('vnsw');
    let tap: Tap | undefined;
    try {
      ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
      tap = Tap.open({ name: uniqueName('vsw'), vnetHdr: true, multiQueue: true });
      ns.adopt(tap.name);
      ns.ip('link', 'set', tap.name, 'up');
      return new SwitchTap(ns, tap, PacketSocket.open(tap.name, { netns: ns.name, receiveBuffer: 16 << 20 }));
    } catch (e) {
      tap?.close();
      ns.delete();
      throw e;
    }
  }

  /** The `tapFds` for a backend section. */
  get fds(): number[] {
    return [...this.tap.fds];
  }

  /** Takes every frame queued on the packet socket. */
  drain(onFrame: (f: Uint8Array) => void): void {
    for (let n = this.sock.recv(this.#buf); n > 0; n = this.sock.recv(this.#buf)) onFrame(this.#buf.subarray(0, n));
  }

  /** Closes the socket and the tap, removes the namespace. */
  close(): void {
    this.sock.close();
    try {
      this.tap.close();
    } finally {
      this.ns.delete();
    }
  }
}

/** What a stream saw: frames the guest queued, where they arrived, duplicates, the ones missing. */
export interface StreamCount {
  readonly sent: number;
  readonly atTap: number;
  readonly atGuest: number;
  readonly duplicates: number;
  readonly lost: readonly number[];
}

/**
 * A steady stream from the guest on pair 0: every `periodMs` a batch of `batch` UDP frames (sizes
 * 64..1000), while the guest's RX and the taps' sockets are drained and every frame counted by
 * sequence number. Frames the ring refuses (full) are not counted as sent and are retried.
 */
export class SteadyStream {
  readonly #driver: VirtioNetDriver;
  readonly #mac: Uint8Array;
  readonly #peer: Uint8Array;
  readonly #taps: SwitchTap[];
  readonly #seen = new Map<number, number>();
  #atTap = 0;
  #atGuest = 0;
  #next = 1;
  #running = false;
  #loop: Promise<void> | undefined;
  /** Sequence number of the first frame sent after mark() and of the first frame seen after it. */
  #marks: { readonly from: number; firstSeen: number | undefined }[] = [];

  constructor(driver: VirtioNetDriver, mac: Uint8Array, peer: Uint8Array, taps: readonly SwitchTap[]) {
    this.#driver = driver;
    this.#mac = mac;
    this.#peer = peer;
    this.#taps = [...taps];
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
    }
    for (const t of this.#taps) t.drain((f) => void (this.#count(f) && this.#atTap++));
  }

  /** Stops sending, waits (up to `timeoutMs`) for every frame to arrive, returns the count. */
  async stop(timeoutMs = 5000): Promise<StreamCount> {
    this.#running = false;
    await this.#loop;
    await waitUntil(
      () => {
        this.drain();
        return this.#seen.size >= this.sent;
      },
      'every stream frame to arrive',
      timeoutMs,
    ).catch(() => undefined);
    return this.count();
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

/** Every offload off: a tap, the kernel and testpmd all give the rest, so a guest can move between them. */
const OFFLOADS_OFF = Object.fromEntries(
  ['csum', 'guestCsum', 'hostTso4', 'hostTso6', 'hostEcn', 'hostUfo', 'guestTso4', 'guestTso6', 'guestEcn', 'guestUfo'].map((k) => [k, false]),
);

/** A `net[]` entry for NIC `id` on `backend` with that backend's `section` (same MAC and limits every time). */
export function switchEntry(
  id: string,
  mac: string,
  backend: string,
  section: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id, backend, mac, queuePairs: 1, queueSize: 256, offloads: OFFLOADS_OFF, ...extra, [backend]: section };
}

/** Six bytes of "52:54:00:..". */
export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((b) => parseInt(b, 16)));
}
