import { VnicError } from '@vnic/core';
import { checkSys } from './checkSys.ts';
import { closeFd } from './fd/closeFd.ts';
import { EINTR } from './linux/errno.ts';
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLL_EVENT_DATA_OFFSET, EPOLL_EVENT_SIZE } from './linux/eventpoll.ts';
import { libc } from './native/libc.ts';
import { SysError } from './SysError.ts';

/** One ready fd: the `data` it was registered with (the fd by default) and the EPOLL* bits. */
export interface EpollEvent {
  data: number;
  events: number;
}

const TWO_32 = 0x1_0000_0000;
const MAX_EVENTS = 4096;

function checkMaxEvents(maxEvents: number): void {
  if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > MAX_EVENTS) {
    throw new VnicError('invalid-argument', `maxEvents ${maxEvents} is not an integer in 1..${MAX_EVENTS}`);
  }
}

function decode(view: DataView, i: number, into: EpollEvent): EpollEvent {
  const off = i * EPOLL_EVENT_SIZE;
  into.events = view.getUint32(off, true);
  into.data = view.getUint32(off + EPOLL_EVENT_DATA_OFFSET, true) + view.getUint32(off + EPOLL_EVENT_DATA_OFFSET + 4, true) * TWO_32;
  return into;
}

/**
 * An epoll instance (EPOLL_CLOEXEC). `wait` blocks the calling thread (an IO worker's loop);
 * `waitAsync` runs epoll_wait on a libuv pool thread so the main thread keeps running.
 */
export class Epoll {
  private fdValue: number;
  // NATIVE: per-instance buffers: `ctl` for epoll_ctl (sync), `events` for sync wait (grown on demand).
  private readonly ctl = new ArrayBuffer(16);
  private readonly ctlView = new DataView(this.ctl);
  private readonly ctlAddr = libc.address(this.ctl);
  private events = new ArrayBuffer(64 * EPOLL_EVENT_SIZE);
  private eventsView = new DataView(this.events);
  private eventsAddr = libc.address(this.events);
  private readonly ready: EpollEvent[] = [];
  private readonly pool: EpollEvent[] = [];

  private constructor(fd: number) {
    this.fdValue = fd;
  }

  /** epoll_create1(EPOLL_CLOEXEC). */
  static create(): Epoll {
    return new Epoll(checkSys(libc.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1'));
  }

  /** The epoll fd (throws once closed). */
  get fd(): number {
    if (this.fdValue < 0) throw new VnicError('invalid-state', 'epoll instance is closed');
    return this.fdValue;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.fdValue < 0;
  }

  /** Registers `fd` for `events` (EPOLLIN, ...); `data` (default: the fd) comes back in each event. */
  add(fd: number, events: number, data: number = fd): void {
    this.control(EPOLL_CTL_ADD, 'EPOLL_CTL_ADD', fd, events, data);
  }

  /** Changes the events or data of a registered fd. */
  modify(fd: number, events: number, data: number = fd): void {
    this.control(EPOLL_CTL_MOD, 'EPOLL_CTL_MOD', fd, events, data);
  }

  /** Unregisters `fd`. */
  remove(fd: number): void {
    this.control(EPOLL_CTL_DEL, 'EPOLL_CTL_DEL', fd, 0, 0);
  }

  /**
   * Waits up to `timeoutMs` (-1: forever, 0: poll) for at most `maxEvents` ready fds, blocking
   * this thread. The returned array and its objects are REUSED by the next wait on this
   * instance: read them before waiting again. Returns an empty array on timeout or EINTR.
   */
  wait(maxEvents = 64, timeoutMs = -1): readonly EpollEvent[] {
    const epfd = this.fd;
    checkMaxEvents(maxEvents);
    if (this.events.byteLength < maxEvents * EPOLL_EVENT_SIZE) {
      this.events = new ArrayBuffer(maxEvents * EPOLL_EVENT_SIZE);
      this.eventsView = new DataView(this.events);
      this.eventsAddr = libc.address(this.events);
    }
    const ready = this.ready;
    // NATIVE: the kernel writes up to maxEvents structs into this.events during the call.
    const n = libc.epoll_wait(epfd, this.eventsAddr, maxEvents, timeoutMs);
    if (n < 0) {
      const errno = libc.errno();
      if (errno !== EINTR) throw new SysError({ syscall: 'epoll_wait', errno, target: `epoll ${epfd}` });
      ready.length = 0;
      return ready;
    }
    const pool = this.pool;
    while (pool.length < n) pool.push({ data: 0, events: 0 });
    ready.length = n;
    for (let i = 0; i < n; i++) ready[i] = decode(this.eventsView, i, pool[i]!);
    return ready;
  }

  /**
   * Like wait, on a libuv thread-pool thread (koffi `.async`): the event loop keeps running.
   * Resolves with fresh event objects; resolves [] on timeout, on EINTR, or when the instance
   * was closed meanwhile. Each pending call holds one pool thread (4 by default,
   * UV_THREADPOOL_SIZE) until it returns, so prefer finite timeouts.
   */
  waitAsync(maxEvents = 64, timeoutMs = -1): Promise<EpollEvent[]> {
    const epfd = this.fd;
    checkMaxEvents(maxEvents);
    // NATIVE: a buffer per call, kept alive by the callback closure until the pool thread is done with it.
    const buf = new ArrayBuffer(maxEvents * EPOLL_EVENT_SIZE);
    const addr = libc.address(buf);
    return new Promise<EpollEvent[]>((resolve, reject) => {
      libc.epoll_wait.async(epfd, addr, maxEvents, timeoutMs, (err: unknown, n: number) => {
        if (err !== null && err !== undefined) {
          reject(new VnicError('sys', `epoll_wait on epoll ${epfd} could not run asynchronously`, { cause: err }));
          return;
        }
        if (n < 0) {
          const errno = libc.errno();
          if (errno === EINTR || this.closed) resolve([]);
          else reject(new SysError({ syscall: 'epoll_wait', errno, target: `epoll ${epfd}` }));
          return;
        }
        if (this.fdValue !== epfd) {
          resolve([]);
          return;
        }
        const view = new DataView(buf);
        const out: EpollEvent[] = [];
        for (let i = 0; i < n; i++) out.push(decode(view, i, { data: 0, events: 0 }));
        resolve(out);
      });
    });
  }

  /** Closes the epoll fd; later calls do nothing. A pending waitAsync resolves at its timeout. */
  close(): void {
    const fd = this.fdValue;
    if (fd < 0) return;
    this.fdValue = -1;
    closeFd(fd);
  }

  private control(op: number, opName: string, fd: number, events: number, data: number): void {
    const epfd = this.fd;
    if (!Number.isSafeInteger(data) || data < 0) throw new VnicError('invalid-argument', `epoll data ${data} is not a non-negative safe integer`);
    const v = this.ctlView;
    v.setUint32(0, events >>> 0, true);
    const lo = data % TWO_32;
    v.setUint32(EPOLL_EVENT_DATA_OFFSET, lo, true);
    v.setUint32(EPOLL_EVENT_DATA_OFFSET + 4, (data - lo) / TWO_32, true);
    checkSys(libc.epoll_ctl(epfd, op, fd, this.ctlAddr), 'epoll_ctl', opName, `fd ${fd}`);
  }
}
