import {
  NetDeviceBase,
  placeRxFrame,
  featureBit,
  hasFeature,
  rxFilterAccepts,
  deviceQueueFor,
  virtio_net,
  type ActivateContext,
  type DescriptorChain,
  type GuestMemory,
  type NetDeviceConfig,
  type QueueHost,
  type QueueState,
  type QueueStats,
  type DeviceQueue,
} from '@vnic/core';
import { EpollLoop, EventFd, closeFd, epollQueueHost, guestMemoryFromLayout, readFd, socketpair, writeFd } from '@vnic/sys';

const HDR = virtio_net.VIRTIO_NET_HDR_SIZE;
/**
 * What this data plane supports: everything but checksum offload (the wire carries bare frames,
 * no virtio_net_hdr); the core prunes every feature that depends on CSUM/GUEST_CSUM (TSO, UFO...).
 */
const FEATURES = ((1n << 64n) - 1n) & ~(featureBit(virtio_net.VIRTIO_NET_F_CSUM) | featureBit(virtio_net.VIRTIO_NET_F_GUEST_CSUM));

interface Counters {
  packets: number;
  bytes: number;
  drops: number;
  noBuffer: number;
  filtered: number;
  malformed: number;
}

interface Queue {
  readonly index: number;
  readonly q: DeviceQueue;
  readonly call: EventFd;
  readonly kickFd: number;
}

/**
 * A virtio-net backend in ~200 lines: each frame the guest sends becomes one datagram on an
 * AF_UNIX SOCK_DGRAM socketpair, each datagram that arrives becomes one frame for the guest. The
 * device core (NetDeviceBase) does everything else: feature offer, config space, link, the control
 * queue end to end, the life cycle. The data plane runs on the main thread over one EpollLoop,
 * which also serves as the core's QueueHost (the one hook a backend supplies).
 */
export class DgramNetDevice extends NetDeviceBase {
  /** The outside end of the wire: read frames the guest sent, write frames for the guest. */
  readonly peerFd: number;
  readonly #fd: number;
  readonly #loop = new EpollLoop(50);
  readonly #counters: Counters[];
  readonly #buf = new Uint8Array(65536);
  #mem: GuestMemory | undefined;
  #rx: Queue | undefined;
  #tx: Queue | undefined;
  #mrg = false;
  /** RX chains popped for a frame that did not fit yet (MRG_RXBUF), used first next time. */
  #held: DescriptorChain[] = [];
  /** A datagram read while the guest had no buffer for it. */
  #pending: Uint8Array | undefined;
  #socketWatched = false;
  readonly #broken = new Set<number>();

  constructor(config: NetDeviceConfig) {
    super(config, FEATURES);
    [this.#fd, this.peerFd] = socketpair({ type: 'dgram', nonBlocking: true });
    this.#counters = Array.from({ length: this.numQueues }, () => ({ packets: 0, bytes: 0, drops: 0, noBuffer: 0, filtered: 0, malformed: 0 }));
  }

  protected override queueHost(): QueueHost {
    return epollQueueHost(this.#loop);
  }

  protected override queueStats(index: number): QueueStats {
    const q = index === 0 ? this.#rx : index === 1 ? this.#tx : undefined;
    const c = this.#counters[index]!;
    return { index, ...c, malformed: c.malformed + (q?.q.malformed ?? 0) };
  }

  /** Gets the data queues only (rx0, tx0): the core keeps the control queue. */
  protected override async activateDataPlane(ctx: ActivateContext): Promise<void> {
    const mem = guestMemoryFromLayout(ctx.memory);
    this.#mem = mem;
    this.#mrg = hasFeature(ctx.features, virtio_net.VIRTIO_NET_F_MRG_RXBUF);
    for (const qc of ctx.queues) {
      const queue: Queue = { index: qc.index, q: deviceQueueFor(qc, ctx.features, mem), call: EventFd.fromFd(qc.callFd), kickFd: qc.kickFd };
      if (qc.index === 0) this.#rx = queue;
      else this.#tx = queue;
      const kick = EventFd.fromFd(qc.kickFd);
      this.#loop.add(qc.kickFd, () => {
        kick.read();
        if (qc.index !== 0) return this.#transmit();
        this.#watchSocket(true);
        this.#receive();
      });
    }
    this.#broken.clear();
    this.#watchSocket(true);
  }

  protected override async resetDataPlane(): Promise<QueueState[]> {
    const queues = [this.#rx, this.#tx].filter((q) => q !== undefined);
    this.#watchSocket(false);
    for (const a of queues) {
      this.#loop.remove(a.kickFd);
      this.#counters[a.index]!.malformed += a.q.malformed;
    }
    this.#held = [];
    this.#pending = undefined;
    this.#rx = this.#tx = this.#mem = undefined;
    return queues.map((a) => a.q.getState());
  }

  protected override async closeBackend(): Promise<void> {
    await this.#loop.close();
    closeFd(this.#fd);
    closeFd(this.peerFd);
  }

  /** Guest -> wire: one datagram per chain, virtio_net_hdr stripped. */
  #transmit(): void {
    const a = this.#tx;
    const mem = this.#mem;
    if (a === undefined || mem === undefined) return;
    const c = this.#counters[1]!;
    do {
      for (let ch = a.q.pop(mem); ch !== undefined; ch = a.q.pop(mem)) {
        const bytes = ch.readAll(mem);
        if (bytes.length <= HDR || !this.linkUp || writeFd(this.#fd, bytes.subarray(HDR)) < 0) c.drops++;
        else {
          c.packets++;
          c.bytes += bytes.length - HDR;
        }
        a.q.addUsed(mem, ch.head, 0);
      }
    } while (a.q.enableNotification(mem));
    if (a.q.needsNotification(mem)) a.call.write(1n);
    this.#checkBroken(a);
  }

  /** Wire -> guest: each datagram into one chain (or several with MRG_RXBUF). */
  #receive(): void {
    const a = this.#rx;
    const mem = this.#mem;
    if (a === undefined || mem === undefined) return;
    const c = this.#counters[0]!;
    let used = false;
    for (;;) {
      let frame = this.#pending;
      this.#pending = undefined;
      if (frame === undefined) {
        const n = readFd(this.#fd, this.#buf);
        if (n < 0) break;
        frame = this.#buf.slice(0, n);
      }
      if (!this.linkUp) {
        c.drops++;
        continue;
      }
      if (!rxFilterAccepts(frame, this.ctrlState)) {
        c.filtered++;
        continue;
      }
      const need = HDR + frame.length;
      let have = this.#held.reduce((n, ch) => n + ch.writableLength, 0);
      while (have < need && (this.#mrg || this.#held.length === 0)) {
        const ch = a.q.pop(mem);
        if (ch === undefined) break;
        this.#held.push(ch);
        have += ch.writableLength;
      }
      if (this.#held.length === 0 || (this.#mrg && have < need)) {
        this.#pending = frame;
        // Out of buffers: ask for a kick when the guest posts more (unless it already did), and
        // stop watching the socket meanwhile (it stays readable: a level-triggered watch would spin).
        if (a.q.enableNotification(mem)) continue;
        c.noBuffer++;
        this.#watchSocket(false);
        break;
      }
      if (!this.#mrg && have < need) {
        a.q.addUsed(mem, this.#held.shift()!.head, 0);
        c.drops++;
        used = true;
        continue;
      }
      placeRxFrame(mem, a.q, this.#held, frame, this.#mrg);
      c.packets++;
      c.bytes += frame.length;
      used = true;
    }
    if (used && a.q.needsNotification(mem)) a.call.write(1n);
    this.#checkBroken(a);
  }

  #watchSocket(on: boolean): void {
    if (on === this.#socketWatched) return;
    this.#socketWatched = on;
    if (on) this.#loop.add(this.#fd, () => this.#receive());
    else this.#loop.remove(this.#fd);
  }

  /** Ring-level corruption: the queue stops (no more kicks served) and the VMM hears NEEDS_RESET once. */
  #checkBroken(a: Queue): void {
    if (!a.q.needsReset || this.#broken.has(a.index)) return;
    this.#broken.add(a.index);
    this.#loop.remove(a.kickFd);
    if (a.index === 0) this.#watchSocket(false);
    this.events.emit('needs-reset', `${this.id}: queue ${a.index}: ${a.q.brokenReason}`, a.index);
  }
}
