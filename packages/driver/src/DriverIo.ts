import {
  VIRTIO_MMIO_QUEUE_NOTIFY,
  decodeVirtioNetHdr,
  encodeNetCtrlCommand,
  encodeVirtioNetHdr,
  hasFeature,
  virtio_net as N,
  type GuestMemory,
  type NetCtrlCommand,
  type VirtioNetHdr,
} from '@vnic/core';
import { yieldCpu, type Epoll } from '@vnic/sys';
import { concatBytes } from './concatBytes.ts';
import { DriverError } from './DriverError.ts';
import type { DriverQueueState } from './DriverQueueState.ts';
import type { MmioWindow } from './MmioWindow.ts';
import type { ReceivedFrame } from './ReceivedFrame.ts';
import type { TxLayout } from './TxLayout.ts';

const { VIRTIO_NET_HDR_SIZE } = N;
const NO_HDR: VirtioNetHdr = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 1 };

/** What DriverIo works on: the queues the bring-up made and how to notify them. */
export interface DriverIoInit {
  readonly memory: GuestMemory;
  readonly mmio: MmioWindow;
  readonly name: string;
  readonly notify: 'eventfd' | 'mmio';
  readonly txLayout: TxLayout;
  readonly features: bigint;
  readonly queuePairs: number;
  readonly ctrlIndex: number | undefined;
  readonly queues: ReadonlyMap<number, DriverQueueState>;
  readonly rxAny: Epoll;
}

/**
 * The guest driver's I/O over its queues (VirtioNetDriver's send/receive/ctrl): posts TX frames
 * in the chosen layout and reclaims them, takes RX frames (reassembling MRG_RXBUF buffers) and
 * reposts their buffers, runs control commands, notifies when the device asks for it, and waits
 * on call eventfds with interrupts armed (async epoll: the event loop keeps running).
 */
export class DriverIo {
  readonly #mem: GuestMemory;
  readonly #mmio: MmioWindow;
  readonly #name: string;
  readonly #notify: 'eventfd' | 'mmio';
  readonly #txLayout: TxLayout;
  readonly #mrg: boolean;
  readonly #pairs: number;
  readonly #ctrlIndex: number | undefined;
  readonly #queues: Map<number, DriverQueueState>;
  readonly #rxAny: Epoll;
  #rxCursor = 0;
  #closed = false;

  constructor(init: DriverIoInit) {
    this.#mem = init.memory;
    this.#mmio = init.mmio;
    this.#name = init.name;
    this.#notify = init.notify;
    this.#txLayout = init.txLayout;
    this.#mrg = hasFeature(init.features, N.VIRTIO_NET_F_MRG_RXBUF);
    this.#pairs = init.queuePairs;
    this.#ctrlIndex = init.ctrlIndex;
    this.#queues = new Map(init.queues);
    this.#rxAny = init.rxAny;
  }

  readonly #calls = new Map<DriverQueueState, number>();

  /** Queue `index`; throws once closed or for a queue that was not set up. */
  state(index: number): DriverQueueState {
    if (this.#closed) throw new DriverError('closed', `driver for ${this.#name} is closed`);
    const s = this.#queues.get(index);
    if (s === undefined) throw new DriverError('invalid-argument', `queue ${index} is not set up (queue pairs: ${this.#pairs})`);
    return s;
  }

  /** Posts every free RX buffer of `pair`, publishes and kicks if needed. */
  refillRx(pair: number): void {
    const s = this.state(2 * pair);
    for (let id = s.pool.alloc(); id !== undefined; id = s.pool.alloc()) s.pool.postWritable(this.#mem, s.q, id);
    s.q.publish(this.#mem);
    this.kickIfNeeded(s);
  }

  /** See VirtioNetDriver.send. */
  send(frame: Uint8Array, options: { hdr?: Partial<VirtioNetHdr>; queuePair?: number; kick?: boolean }): boolean {
    const s = this.state(2 * (options.queuePair ?? 0) + 1);
    s.pool.reclaim(this.#mem, s.q);
    if (!this.#postTx(s, frame, options.hdr)) return false;
    s.q.publish(this.#mem);
    if (options.kick !== false) this.kickIfNeeded(s);
    return true;
  }

  /** See VirtioNetDriver.sendBatch. */
  sendBatch(frames: readonly Uint8Array[], options: { hdr?: Partial<VirtioNetHdr>; queuePair?: number }): number {
    const s = this.state(2 * (options.queuePair ?? 0) + 1);
    s.pool.reclaim(this.#mem, s.q);
    let n = 0;
    for (const f of frames) {
      if (!this.#postTx(s, f, options.hdr)) break;
      n++;
    }
    s.q.publish(this.#mem);
    this.kickIfNeeded(s);
    return n;
  }

  /** See VirtioNetDriver.flushTx. */
  async flushTx(queuePair: number, timeoutMs: number): Promise<void> {
    const s = this.state(2 * queuePair + 1);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      s.pool.reclaim(this.#mem, s.q);
      if (s.pool.inFlight === 0) return;
      if (!(await this.#waitUsed(s, deadline))) {
        throw new DriverError('timeout', `device ${this.#name}: ${s.pool.inFlight} TX buffers on queue ${s.index} not used after ${timeoutMs} ms`);
      }
    }
  }

  /** See VirtioNetDriver.reclaim. */
  reclaim(queuePair: number): number {
    const s = this.state(2 * queuePair + 1);
    return s.pool.reclaim(this.#mem, s.q);
  }

  /** See VirtioNetDriver.tryReceive. */
  tryReceive(queuePair: number): ReceivedFrame | undefined {
    const s = this.state(2 * queuePair);
    const mem = this.#mem;
    const first = s.q.popUsed(mem);
    if (first === undefined) return undefined;
    const id0 = s.pool.take(first.id);
    const head = mem.read(s.pool.addr(id0), Math.min(first.len, s.pool.size)) ?? new Uint8Array(0);
    const hdr = decodeVirtioNetHdr(head) ?? NO_HDR;
    const count = this.#mrg ? Math.max(1, hdr.numBuffers) : 1;
    const parts: Uint8Array[] = [head.subarray(Math.min(VIRTIO_NET_HDR_SIZE, head.length))];
    s.pool.postWritable(mem, s.q, id0);
    for (let k = 1; k < count; k++) {
      const e = s.q.popUsed(mem);
      if (e === undefined) {
        throw new DriverError('device-failed', `device ${this.#name}: num_buffers ${count} but only ${k} used buffers published on queue ${s.index}`);
      }
      const id = s.pool.take(e.id);
      parts.push(mem.read(s.pool.addr(id), Math.min(e.len, s.pool.size)) ?? new Uint8Array(0));
      s.pool.postWritable(mem, s.q, id);
    }
    s.q.publish(mem);
    this.kickIfNeeded(s);
    return { hdr, frame: concatBytes(parts), buffers: count, queuePair };
  }

  /** See VirtioNetDriver.receive. */
  async receive(queuePair: number, timeoutMs: number): Promise<ReceivedFrame | undefined> {
    const s = this.state(2 * queuePair);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.tryReceive(queuePair);
      if (f !== undefined) return f;
      if (!(await this.#waitUsed(s, deadline))) return undefined;
    }
  }

  /** Waits of receiveSync that blocked on a call eventfd (the used ring stayed empty through the spin). */
  syncSleeps = 0;

  /** See VirtioNetDriver.receiveSync. */
  receiveSync(queuePair: number, timeoutMs: number, spinUs: number): ReceivedFrame | undefined {
    const s = this.state(2 * queuePair);
    const mem = this.#mem;
    const t0 = performance.now();
    const deadline = t0 + timeoutMs;
    const spinEnd = t0 + spinUs / 1000;
    let armed = spinUs <= 0;
    if (!armed) s.q.disableInterrupts(mem);
    for (;;) {
      const f = this.tryReceive(queuePair);
      if (f !== undefined) {
        if (armed) s.q.disableInterrupts(mem);
        return f;
      }
      const now = performance.now();
      if (now < spinEnd) {
        yieldCpu(); // the device's thread may be waiting for this CPU (both on one CPU: it runs now)
        continue;
      }
      if (this.#closed) return undefined;
      armed = true;
      if (s.q.enableInterrupts(mem)) continue;
      const remaining = deadline - now;
      if (remaining <= 0) return undefined;
      this.syncSleeps++;
      s.epoll.wait(1, Math.min(Math.ceil(remaining), 250));
      this.#readCall(s);
    }
  }

  /** See VirtioNetDriver.receiveAny. */
  async receiveAny(timeoutMs: number): Promise<ReceivedFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.#pairs; i++) {
        const p = (this.#rxCursor + i) % this.#pairs;
        const f = this.tryReceive(p);
        if (f !== undefined) {
          this.#rxCursor = (p + 1) % this.#pairs;
          return f;
        }
      }
      if (!(await this.#waitAnyRx(deadline))) return undefined;
    }
  }

  /** See VirtioNetDriver.ctrl. */
  async ctrl(command: NetCtrlCommand | Uint8Array, timeoutMs: number): Promise<number> {
    if (this.#ctrlIndex === undefined) throw new DriverError('invalid-argument', `device ${this.#name}: VIRTIO_NET_F_CTRL_VQ not negotiated`);
    const s = this.state(this.#ctrlIndex);
    const bytes = command instanceof Uint8Array ? command : encodeNetCtrlCommand(command);
    const id = s.pool.alloc();
    if (id === undefined) throw new DriverError('invalid-state', `device ${this.#name}: control queue full`);
    const addr = s.pool.addr(id);
    const mem = this.#mem;
    mem.write(addr, bytes);
    const ackAddr = addr + s.pool.size - 1;
    mem.write(ackAddr, Uint8Array.of(0xff));
    const head = s.q.add(mem, [
      { addr, len: bytes.length, writable: false },
      { addr: ackAddr, len: 1, writable: true },
    ]);
    if (head === undefined) {
      s.pool.free(id);
      throw new DriverError('invalid-state', `device ${this.#name}: control queue full`);
    }
    s.pool.bind(head, id);
    s.q.publish(mem);
    this.kickIfNeeded(s);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = s.q.popUsed(mem);
      if (e !== undefined) {
        s.pool.free(s.pool.take(e.id));
        if (e.id === head) return e.len >= 1 ? mem.read(ackAddr, 1)![0]! : 0xff;
        continue;
      }
      if (!(await this.#waitUsed(s, deadline))) {
        throw new DriverError('timeout', `device ${this.#name}: no answer to control command after ${timeoutMs} ms`);
      }
    }
  }

  /** Notifies the device when the ring says it wants it (EVENT_IDX or NO_NOTIFY). */
  kickIfNeeded(s: DriverQueueState): void {
    if (s.q.kickNeeded(this.#mem)) this.notify(s);
  }

  /** Notifies queue `s`: its kick eventfd, or QueueNotify through the MMIO window. */
  notify(s: DriverQueueState): void {
    if (this.#notify === 'mmio') this.#mmio.write(VIRTIO_MMIO_QUEUE_NOTIFY, 4, s.index);
    else s.kick.write(1n);
  }

  /** Marks the I/O closed: every later call throws `closed`, and waiters return at their next wake-up. */
  markClosed(): void {
    this.#closed = true;
  }

  /** Wakes every waiter (so it sees `closed`) and closes the driver's own epolls. */
  dispose(): void {
    this.#closed = true;
    for (const s of this.#queues.values()) {
      if (!s.call.closed) s.call.write(1n); // wake a waiter so it sees `closed`
      s.epoll.close();
    }
    this.#rxAny.close();
    this.#queues.clear();
  }

  #postTx(s: DriverQueueState, frame: Uint8Array, hdr: Partial<VirtioNetHdr> | undefined): boolean {
    if (frame.length + VIRTIO_NET_HDR_SIZE > s.pool.size) {
      throw new DriverError('invalid-argument', `frame of ${frame.length} bytes exceeds ${s.pool.size - VIRTIO_NET_HDR_SIZE}`);
    }
    const id = s.pool.alloc();
    if (id === undefined) return false;
    const mem = this.#mem;
    const addr = s.pool.addr(id);
    const h: VirtioNetHdr = { ...NO_HDR, numBuffers: 0, ...hdr };
    const dst = mem.slice(addr, VIRTIO_NET_HDR_SIZE + frame.length)!;
    encodeVirtioNetHdr(h, dst, 0);
    dst.set(frame, VIRTIO_NET_HDR_SIZE);
    let head: number | undefined;
    if (this.#txLayout === 'single') {
      head = s.q.add(mem, [{ addr, len: VIRTIO_NET_HDR_SIZE + frame.length, writable: false }]);
    } else {
      const bufs = [
        { addr, len: VIRTIO_NET_HDR_SIZE, writable: false },
        { addr: addr + VIRTIO_NET_HDR_SIZE, len: frame.length, writable: false },
      ];
      head = this.#txLayout === 'split' ? s.q.add(mem, bufs) : s.q.add(mem, bufs, { indirect: { tableAddr: addr + s.pool.size - 48 } });
    }
    if (head === undefined) {
      s.pool.free(id);
      return false;
    }
    s.pool.bind(head, id);
    return true;
  }

  /** Arms interrupts on every receive queue and waits on their call eventfds until one has used buffers. */
  async #waitAnyRx(deadline: number): Promise<boolean> {
    const mem = this.#mem;
    for (;;) {
      if (this.#closed) return false;
      for (let p = 0; p < this.#pairs; p++) {
        const q = this.state(2 * p).q;
        if (q.usedPending(mem) > 0 || q.enableInterrupts(mem)) return true;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await this.#rxAny.waitAsync(this.#pairs, Math.min(remaining, 250));
      if (this.#closed) return false;
      for (let p = 0; p < this.#pairs; p++) this.#readCall(this.state(2 * p));
    }
  }

  /** Arms interrupts and waits on the call eventfd until used buffers arrive or `deadline` passes. */
  async #waitUsed(s: DriverQueueState, deadline: number): Promise<boolean> {
    const mem = this.#mem;
    for (;;) {
      if (this.#closed) return false;
      if (s.q.usedPending(mem) > 0) return true;
      if (s.q.enableInterrupts(mem)) return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await s.epoll.waitAsync(1, Math.min(remaining, 250));
      if (this.#closed) return false;
      this.#readCall(s);
    }
  }

  /**
   * Used-buffer notifications the device sent on queue `index` so far: every call eventfd write
   * (the counter adds them up until a read), those the waits consumed plus what is pending now.
   */
  notifications(index: number): number {
    const s = this.state(index);
    this.#readCall(s);
    return this.#calls.get(s) ?? 0;
  }

  #readCall(s: DriverQueueState): void {
    const n = s.call.read();
    if (n !== undefined) this.#calls.set(s, (this.#calls.get(s) ?? 0) + Number(n));
  }
}
