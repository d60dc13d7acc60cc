import { checkSys } from './checkSys.ts';
import { closeFd } from './fd/closeFd.ts';
import { EAGAIN, EINTR } from './linux/errno.ts';
import { CLOCK_MONOTONIC, TFD_CLOEXEC, TFD_NONBLOCK } from './linux/timerfd.ts';
import { libc } from './native/libc.ts';
import { SysError } from './SysError.ts';
import { VnicError } from '@vnic/core';

// NATIVE: one struct itimerspec (4 x int64: it_interval, it_value) and one 8-byte expiration count
// per thread (module instance), used by sync calls only.
const spec = new BigInt64Array(4);
const count = new BigUint64Array(1);

/**
 * A one-shot CLOCK_MONOTONIC timerfd (timerfd_create(2), TFD_NONBLOCK | TFD_CLOEXEC): readable in
 * an epoll once it expires (the IO threads' coalescing deadline). Owns its fd; `close()` is idempotent.
 */
export class TimerFd {
  #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Creates a disarmed timer. */
  static create(): TimerFd {
    return new TimerFd(checkSys(libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), 'timerfd_create'));
  }

  /** The fd (throws once closed). */
  get fd(): number {
    if (this.#fd < 0) throw new VnicError('invalid-state', 'timerfd is closed');
    return this.#fd;
  }

  /** Arms the timer to expire once, `usecs` microseconds from now (at least 1 µs; re-arming replaces the earlier time). */
  armIn(usecs: number): void {
    const us = Math.max(1, Math.ceil(usecs));
    spec[0] = 0n;
    spec[1] = 0n;
    spec[2] = BigInt(Math.floor(us / 1_000_000));
    spec[3] = BigInt((us % 1_000_000) * 1000);
    this.#settime();
  }

  /** Disarms the timer (an expiration already counted stays readable until `read`). */
  disarm(): void {
    spec.fill(0n);
    this.#settime();
  }

  /** Reads and resets the expiration count: 0 when it has not expired since the last read. */
  read(): number {
    const fd = this.fd;
    for (;;) {
      const n = libc.read(fd, count, 8);
      if (n === 8) return Number(count[0]);
      if (n >= 0) throw new VnicError('invalid-state', `read timerfd ${fd}: ${n} bytes instead of the 8-byte expiration count`);
      const errno = libc.errno();
      if (errno === EAGAIN) return 0;
      if (errno !== EINTR) throw new SysError({ syscall: 'read', errno, target: `timerfd ${fd}` });
    }
  }

  /** Closes the fd; later calls do nothing. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    closeFd(fd);
  }

  #settime(): void {
    const fd = this.fd;
    if (libc.timerfd_settime(fd, 0, spec, null) < 0) throw new SysError({ syscall: 'timerfd_settime', errno: libc.errno(), target: `timerfd ${fd}` });
  }
}
