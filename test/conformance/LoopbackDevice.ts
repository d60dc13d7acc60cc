import {
  NetDeviceBase,
  deviceQueueFor,
  placeRxFrame,
  hasFeature,
  rxFilterAccepts,
  virtio_net,
  type ActivateContext,
  type DescriptorChain,
  type DeviceQueue,
  type GuestMemory,
  type NetDeviceConfig,
  type QueueHost,
  type QueueState,
  type QueueStats,
} from '@vnic/core';
import { EPOLLIN, Epoll, EpollLoop, EventFd, epollQueueHost, guestMemoryFromLayout } from '@vnic/sys';

const HDR = virtio_net.VIRTIO_NET_HDR_SIZE;
/** epoll data of the stop eventfd (queue indices are below 65536). */
const STOP = 0xffff_ffff;

interface Counters {
  packets: number;
  bytes: number;
  drops: number;
  noBuffer: number;
  filtered: number;
  malformed: number;
}

interface ActiveQueue {
  readonly index: number;
  readonly q: DeviceQueue;
  readonly kick: EventFd;
  readonly call: EventFd;
}

/**
 * A TEST-ONLY device: the smallest honest backend, used to prove the conformance suite itself.
 * Its "wire" is in memory: frames the guest transmits land in `fromGuest`, frames passed to
 * `toGuest` are received by the guest. It runs its data plane on the main thread with an async
 * epoll over the kick eventfds of its data queues, and shares every piece of logic a real backend
 * shares (NetDeviceBase: features, config space, the control queue end to end; DeviceQueue: chain
 * validation).
 */
export class LoopbackDevice extends NetDeviceBase {
  /** Frames the guest sent, in order. */
  readonly fromGuest: Uint8Array[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly pendingRx: Uint8Array[] = [];
  private counters: Counters[] = [];
  private mem: GuestMemory | undefined;
  private queues = new Map<number, ActiveQueue>();
  private heldRx: DescriptorChain[] = [];
  private epoll: Epoll | undefined;
  private stopFd: EventFd | undefined;
  private loop: Promise<void> | undefined;
  private running = false;
  private mrg = false;
  /** The loop the device core's control-queue kick is watched on. */
  private readonly ctrlLoop = new EpollLoop(100);

  constructor(config: NetDeviceConfig) {
    super(config, (1n << 64n) - 1n);
    this.counters = Array.from({ length: this.numQueues }, () => ({ packets: 0, bytes: 0, drops: 0, noBuffer: 0, filtered: 0, malformed: 0 }));
  }

  /** Delivers a frame from the outside to the guest (receive queue 0). */
  toGuest(frame: Uint8Array): void {
    this.pendingRx.push(frame.slice());
    if (this.running) this.deliver();
  }

  /** Resolves once `count` frames have been sent by the guest (or rejects after `timeoutMs`). */
  async waitFromGuest(count: number, timeoutMs = 2000): Promise<Uint8Array[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.fromGuest.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`loopback ${this.id}: ${this.fromGuest.length}/${count} frames from the guest after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
    }
    return this.fromGuest.splice(0, count);
  }

  protected override queueStats(index: number): QueueStats {
    const c = this.counters[index]!;
    const q = this.queues.get(index)?.q;
    return { index, ...c, malformed: c.malformed + (q?.malformed ?? 0) };
  }

  protected override queueHost(): QueueHost {
    return epollQueueHost(this.ctrlLoop);
  }

  protected override async activateDataPlane(ctx: ActivateContext): Promise<void> {
    const mem = guestMemoryFromLayout(ctx.memory);
    this.mrg = hasFeature(ctx.features, virtio_net.VIRTIO_NET_F_MRG_RXBUF);
    const epoll = Epoll.create();
    const stopFd = EventFd.create({ nonBlocking: true });
    epoll.add(stopFd.fd, EPOLLIN, STOP);
    const queues = new Map<number, ActiveQueue>();
    for (const qc of ctx.queues) {
      const q = deviceQueueFor(qc, ctx.features, mem);
      queues.set(qc.index, { index: qc.index, q, kick: EventFd.fromFd(qc.kickFd), call: EventFd.fromFd(qc.callFd) });
      epoll.add(qc.kickFd, EPOLLIN, qc.index);
    }
    this.mem = mem;
    this.queues = queues;
    this.heldRx = [];
    this.epoll = epoll;
    this.stopFd = stopFd;
    this.running = true;
    this.loop = this.run(epoll);
  }

  protected override async resetDataPlane(): Promise<QueueState[]> {
    this.running = false;
    this.stopFd?.write(1n);
    await this.loop;
    this.epoll?.close();
    this.stopFd?.close();
    this.epoll = undefined;
    this.stopFd = undefined;
    const states = [...this.queues.values()].sort((a, b) => a.index - b.index).map((a) => a.q.getState());
    // kick/call fds belong to the VMM: the EventFd.fromFd wrappers are dropped, never closed.
    for (const a of this.queues.values()) this.counters[a.index]!.malformed += a.q.malformed;
    this.queues = new Map();
    this.mem = undefined;
    this.heldRx = [];
    return states;
  }

  protected override async closeBackend(): Promise<void> {
    this.pendingRx.length = 0;
    await this.ctrlLoop.close();
  }

  protected override onRxFilterChanged(): void {}

  private async run(epoll: Epoll): Promise<void> {
    while (this.running) {
      const events = await epoll.waitAsync(16, 200);
      if (!this.running) break;
      for (const e of events) {
        const a = this.queues.get(e.data);
        if (a === undefined) continue;
        a.kick.read();
        this.service(a);
      }
    }
  }

  private service(a: ActiveQueue): void {
    const mem = this.mem;
    if (mem === undefined) return;
    // The canonical device loop: process, re-enable notifications (avail_event with EVENT_IDX),
    // and process again when the driver added buffers meanwhile.
    if (a.index % 2 === 1) {
      do this.transmit(mem, a);
      while (a.q.enableNotification(mem));
    } else {
      this.deliver();
      if (a.q.enableNotification(mem) && this.pendingRx.length > 0) this.deliver();
    }
    if (a.q.needsReset) this.events.emit('needs-reset', `queue ${a.index}: ${a.q.brokenReason}`, a.index);
  }

  private transmit(mem: GuestMemory, a: ActiveQueue): void {
    const c = this.counters[a.index]!;
    for (let chain = a.q.pop(mem); chain !== undefined; chain = a.q.pop(mem)) {
      const bytes = chain.readAll(mem);
      if (bytes.length < HDR || !this.linkUp) c.drops++;
      else {
        c.packets++;
        c.bytes += bytes.length - HDR;
        this.fromGuest.push(bytes.slice(HDR));
      }
      a.q.addUsed(mem, chain.head, 0);
    }
    if (a.q.needsNotification(mem)) a.call.write(1n);
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      w();
    }
  }

  private deliver(): void {
    const mem = this.mem;
    const a = this.queues.get(0);
    if (mem === undefined || a === undefined) return;
    const c = this.counters[0]!;
    let used = false;
    while (this.pendingRx.length > 0) {
      const frame = this.pendingRx[0]!;
      if (!this.linkUp) {
        this.pendingRx.shift();
        c.drops++;
        continue;
      }
      if (!rxFilterAccepts(frame, this.ctrlState)) {
        this.pendingRx.shift();
        c.filtered++;
        continue;
      }
      const need = HDR + frame.length;
      let have = this.heldRx.reduce((n, ch) => n + ch.writableLength, 0);
      while (have < need && (this.mrg || this.heldRx.length === 0)) {
        const ch = a.q.pop(mem);
        if (ch === undefined) break;
        this.heldRx.push(ch);
        have += ch.writableLength;
      }
      if (this.heldRx.length === 0 || (this.mrg && have < need)) {
        // Out of buffers: ask for a kick when the guest posts more (avail_event = where we stopped),
        // unless it already did meanwhile. Without this a stale avail_event leaves the guest silent.
        if (a.q.enableNotification(mem)) continue;
        c.noBuffer++;
        break;
      }
      this.pendingRx.shift();
      if (!this.mrg && have < need) {
        const ch = this.heldRx.shift()!;
        a.q.addUsed(mem, ch.head, 0);
        c.drops++;
        used = true;
        continue;
      }
      placeRxFrame(mem, a.q, this.heldRx, frame, this.mrg);
      c.packets++;
      c.bytes += frame.length;
      used = true;
    }
    if (used && a.q.needsNotification(mem)) a.call.write(1n);
  }
}
