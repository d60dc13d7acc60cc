import type { DriverQueue, GuestMemory } from '@vnic/core';
import { virtio_net } from '@vnic/core';
import { CliError } from '../../CliError.ts';
import { yieldCpu } from '@vnic/sys';
import { SplitRingView } from './SplitRingView.ts';

const HDR = virtio_net.VIRTIO_NET_HDR_SIZE;
/** Offsets in an Ethernet frame carrying IPv4 (no options) + ICMP. */
const ETHERTYPE = 12;
const IP = 14;
const ICMP = IP + 20;

/** How long awaitReply polls between two yields of the CPU (microseconds). */
const YIELD_EVERY_US = 2;

/** What `poll` returns while no reply has come. */
export const NO_REPLY = -1;

/**
 * The RTT bench's guest on split rings (the lean twin of VirtioNetDriver.send + receiveSync): one
 * ICMP echo request in flight, as the C reference keeps, at the cost of a few loads and stores.
 *
 * It takes over both queues of a VirtioNetDriver that has sent one request and taken its reply
 * (so the TX ring holds one finished chain, whose buffer the request is rewritten in) and has
 * every RX buffer posted. `send(seq)` patches the sequence number and ICMP checksum in that
 * buffer and makes its chain available again; `poll()` takes the used RX elements, checks each
 * frame in place (an echo reply with the request's id) and posts its buffer straight back. Both
 * rings ask the device never to interrupt (the guest polls) and the device is kicked only when
 * its avail_event (EVENT_IDX) or used flags ask for it. Nothing is allocated per round trip. The
 * driver must not use either queue again; close (reset) it afterwards.
 */
export class EchoGuest {
  private readonly tx: RingSide;
  private readonly rx: RingSide;
  /** The request frame (header included) in the TX buffer. */
  private readonly request: Uint8Array;
  private readonly txHead: number;
  /** Per RX head: the buffer the descriptor names. */
  private readonly rxBuffers: Uint8Array[];
  private readonly echoId: number;
  /** The sum of the ICMP message with seq 0 and checksum 0 (before the fold). */
  private readonly icmpBase: number;
  private readonly kickTx: () => void;
  private readonly kickRx: () => void;
  /** Kicks the guest made (the device asked for them). */
  kicks = 0;

  /**
   * @param request the frame of the request the driver sent (Ethernet onward, no header), which
   *   this guest sends again with other sequence numbers.
   */
  constructor(mem: GuestMemory, tx: DriverQueue, rx: DriverQueue, request: Uint8Array, kickTx: () => void, kickRx: () => void) {
    this.kickTx = kickTx;
    this.kickRx = kickRx;
    this.tx = new RingSide(mem, tx);
    this.rx = new RingSide(mem, rx);
    if (this.tx.usedIdx() !== tx.lastUsed || tx.numFree !== tx.size) {
      throw new CliError('invalid-state', 'bench guest: the TX ring must have its one request sent and taken back');
    }
    this.txHead = this.tx.usedId((tx.lastUsed - 1) & 0xffff);
    const buf = this.tx.buffer(this.txHead);
    if (buf === undefined || buf.length !== HDR + request.length) {
      throw new CliError('invalid-state', `bench guest: TX descriptor ${this.txHead} does not name the ${HDR + request.length}-byte request buffer`);
    }
    if (request.length < ICMP + 8 || request[ETHERTYPE] !== 0x08 || request[ETHERTYPE + 1] !== 0x00 || request[IP + 9] !== 1) {
      throw new CliError('invalid-argument', 'bench guest: the request is not an IPv4 ICMP frame without IP options');
    }
    this.request = buf;
    buf.fill(0, 0, HDR);
    buf.set(request, HDR);
    const icmpLen = request.length - ICMP;
    this.echoId = (request[ICMP + 4]! << 8) | request[ICMP + 5]!;
    let sum = 0;
    for (let i = 0; i < icmpLen; i += 2) {
      if (i === 2 || i === 6) continue; // checksum and seq: set per request
      sum += (request[ICMP + i]! << 8) | (request[ICMP + i + 1] ?? 0);
    }
    this.icmpBase = sum;
    this.rxBuffers = [];
    for (let h = 0; h < rx.size; h++) this.rxBuffers.push(this.rx.buffer(h) ?? new Uint8Array(0));
    this.tx.noInterrupts();
    this.rx.noInterrupts();
  }

  /** Sends the request again with sequence number `seq` (its ICMP checksum updated). */
  send(seq: number): void {
    const f = this.request;
    const o = HDR + ICMP;
    f[o + 6] = (seq >>> 8) & 0xff;
    f[o + 7] = seq & 0xff;
    let sum = this.icmpBase + (seq & 0xffff);
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    f[o + 2] = c >>> 8;
    f[o + 3] = c & 0xff;
    this.tx.takeUsed(); // the previous request's chain (the device is done with it once its reply came)
    if (this.tx.post(this.txHead)) {
      this.kicks++;
      this.kickTx();
    }
  }

  /**
   * Takes every used RX buffer (each posted straight back) and returns the sequence number of the
   * first echo reply to the request id among them, or NO_REPLY.
   */
  poll(): number {
    const rx = this.rx;
    let got = NO_REPLY;
    let n = 0;
    while (rx.nextUsed()) {
      const head = rx.lastId;
      if (got === NO_REPLY) got = this.replySeq(this.rxBuffers[head], rx.lastLen);
      rx.stage(head);
      n++;
    }
    if (n > 0 && rx.publish()) {
      this.kicks++;
      this.kickRx();
    }
    return got;
  }

  /**
   * Polls until the reply to `seq` comes or `timeoutMs` passes: true when it came. It yields the
   * CPU (sched_yield) every YIELD_EVERY_US, not at every poll: a yield costs about 0.5 us here even
   * with nothing else to run (471 ns, against 92 ns for an epoll_wait with timeout 0), and a reply
   * that lands during one waits that long (p50 6.3 against 7.4 us with a yield per poll). Without
   * any yield a device thread that shares this CPU waits for the scheduler (windows of 30 us).
   */
  awaitReply(seq: number, timeoutMs: number): boolean {
    const t0 = performance.now();
    const end = t0 + timeoutMs;
    let yieldAt = t0 + YIELD_EVERY_US / 1000;
    for (;;) {
      if (this.poll() === seq) return true;
      const now = performance.now();
      if (now >= end) return false;
      if (now >= yieldAt) {
        yieldCpu();
        yieldAt = performance.now() + YIELD_EVERY_US / 1000;
      }
    }
  }

  /** The sequence number of the echo reply to our id in an RX buffer holding `len` bytes (header included), else NO_REPLY. */
  private replySeq(buf: Uint8Array | undefined, len: number): number {
    if (buf === undefined || len < HDR + ICMP + 8 || len > buf.length) return NO_REPLY;
    const o = HDR;
    if (buf[o + ETHERTYPE] !== 0x08 || buf[o + ETHERTYPE + 1] !== 0x00 || buf[o + IP + 9] !== 1 || (buf[o + IP]! & 0x0f) !== 5) return NO_REPLY;
    const i = o + ICMP;
    if (buf[i] !== 0 || ((buf[i + 4]! << 8) | buf[i + 5]!) !== this.echoId) return NO_REPLY;
    return (buf[i + 6]! << 8) | buf[i + 7]!;
  }
}

/** One split ring seen from the guest: the indices it keeps, over the ring's views. */
class RingSide {
  private readonly mem: GuestMemory;
  private readonly q: DriverQueue;
  private readonly view: SplitRingView;
  private nextAvail: number;
  private lastUsed: number;
  private published: number;
  /** The id and length of the element nextUsed took last. */
  lastId = 0;
  lastLen = 0;

  constructor(mem: GuestMemory, q: DriverQueue) {
    this.mem = mem;
    this.q = q;
    this.view = new SplitRingView(mem, q);
    this.nextAvail = q.nextAvail;
    this.published = q.nextAvail;
    this.lastUsed = q.lastUsed;
  }

  /** used->idx as the device last published it. */
  usedIdx(): number {
    return this.view.usedIdx();
  }

  /** The id of used element `idx` (free-running). */
  usedId(idx: number): number {
    return this.view.usedElems[(idx & this.view.mask) << 1]!;
  }

  /** The buffer descriptor `head` names (a one-descriptor chain), or undefined when it is not in guest memory. */
  buffer(head: number): Uint8Array | undefined {
    const r = this.mem.regionOf(this.q.descTable + 16 * head, 16);
    if (r === undefined) return undefined;
    const o = this.q.descTable + 16 * head - r.guestPhysAddr;
    return this.mem.slice(Number(r.view.getBigUint64(o, true)), r.view.getUint32(o + 8, true));
  }

  /** Asks the device never to interrupt. */
  noInterrupts(): void {
    this.view.noInterrupts(this.lastUsed);
  }

  /** Takes the next used element into lastId / lastLen; false when there is none. Throws on a device running ahead. */
  nextUsed(): boolean {
    const v = this.view;
    const pending = (v.usedIdx() - this.lastUsed) & 0xffff;
    if (pending === 0) return false;
    if (pending > v.size) throw new CliError('invalid-state', `bench guest: used->idx ran ${pending} entries ahead of a queue of ${v.size} (a device bug)`);
    const e = (this.lastUsed & v.mask) << 1;
    this.lastId = v.usedElems[e]!;
    this.lastLen = v.usedElems[e + 1]!;
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    if (v.eventIdx) v.noInterrupts(this.lastUsed); // used_event moves with lastUsed
    return true;
  }

  /** Skips every used element published so far. */
  takeUsed(): void {
    while (this.nextUsed());
  }

  /** Puts `head` in the available ring (not yet published). */
  stage(head: number): void {
    const v = this.view;
    v.avail[v.availIdxAt + 1 + (this.nextAvail & v.mask)] = head;
    this.nextAvail = (this.nextAvail + 1) & 0xffff;
  }

  /** Publishes avail->idx; true when the device asked to be kicked for the new entries. */
  publish(): boolean {
    const old = this.published;
    this.published = this.nextAvail;
    this.view.publishAvail(this.nextAvail);
    return this.view.kickNeeded(old, this.nextAvail);
  }

  /** stage + publish of one head. */
  post(head: number): boolean {
    this.stage(head);
    return this.publish();
  }
}
