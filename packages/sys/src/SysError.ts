import { VnicError } from '@vnic/core';
import { errnoDescription, errnoName } from './linux/errno.ts';

/** What a SysError is built from. */
export interface SysErrorInit {
  /** The failing libc call, e.g. `open`, `ioctl`, `recvmsg`. */
  readonly syscall: string;
  /** errno as the kernel returned it. */
  readonly errno: number;
  /** The ioctl request or sub-operation by its C name, e.g. `TUNSETIFF`, `EPOLL_CTL_ADD`. */
  readonly request?: string | undefined;
  /** What the call was about: a path, an interface name, an fd. */
  readonly target?: string | undefined;
  /** What the user can do; replaces the default hint for the errno. */
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

type HintFor = (target: string | undefined) => string;

/** A hint for one errno, optionally only for one syscall (and request): the most specific rule wins. */
interface HintRule {
  readonly code: string;
  readonly syscall?: string;
  readonly request?: string;
  readonly target?: RegExp;
  readonly hint: HintFor;
}

const PRIVILEGE = 'run as root or grant CAP_NET_ADMIN';

// Ordered most specific first. EPERM/EACCES/ENODEV mean different things per call: a tap ioctl's
// EPERM is a missing capability, epoll_ctl's is an fd type epoll cannot watch, mmap's a file seal.
const RULES: readonly HintRule[] = [
  { code: 'EPERM', syscall: 'ioctl', request: 'TUNSETIFF', hint: () => PRIVILEGE },
  { code: 'EPERM', syscall: 'ioctl', request: 'TUNSETPERSIST', hint: () => PRIVILEGE },
  { code: 'EPERM', syscall: 'open', target: /^\/dev\/(net\/tun|vhost-net)$/, hint: () => PRIVILEGE },
  {
    code: 'EPERM',
    syscall: 'epoll_ctl',
    hint: (t) => `${t ?? 'the fd'} cannot be watched by epoll (a regular file or directory): pass a pollable fd (eventfd, socket, pipe, tap)`,
  },
  {
    code: 'EPERM',
    syscall: 'mmap',
    hint: (t) =>
      `the seals of ${t ?? 'the file'} forbid this mapping (F_SEAL_WRITE or F_SEAL_FUTURE_WRITE on a shared writable mapping), or PROT_EXEC on a noexec mount`,
  },
  { code: 'EACCES', syscall: 'mmap', hint: (t) => `${t ?? 'the fd'} is not open for reading, or a shared writable mapping needs it open read-write (O_RDWR)` },
  {
    code: 'ENODEV',
    syscall: 'mmap',
    hint: (t) => `${t ?? 'the fd'} cannot be mapped (a pipe, socket or eventfd): pass a memfd, a hugetlbfs or a regular file`,
  },
  {
    code: 'EINVAL',
    syscall: 'mmap',
    hint: () => 'the kernel rejected the mapping: the offset must be page aligned and the length non-zero (for hugetlbfs: huge-page aligned)',
  },
  { code: 'EPERM', syscall: 'setns', hint: () => 'setns needs CAP_SYS_ADMIN: run as root' },
  { code: 'EPERM', syscall: 'io_uring_setup', hint: () => 'io_uring is disabled (sysctl kernel.io_uring_disabled) or blocked by a seccomp policy' },
  { code: 'EPERM', hint: () => 'operation not permitted: the process lacks a capability this call needs, or a seccomp/LSM policy forbids it' },
  { code: 'EACCES', hint: (t) => `permission denied${t === undefined ? '' : ` on ${t}`}: run as root or check the file mode and owner` },
  { code: 'ENOENT', syscall: 'open', target: /^\/dev\/net\/tun$/, hint: (t) => `${t} not found: load the tun module (modprobe tun)` },
  { code: 'ENOENT', syscall: 'open', target: /^\/dev\/vhost-net$/, hint: (t) => `${t} not found: load the vhost_net module (modprobe vhost_net)` },
  { code: 'ENOENT', syscall: 'open', target: /^\/dev\//, hint: (t) => `${t} not found: load the module (e.g. modprobe tun) or check the path` },
  { code: 'ENOENT', hint: (t) => `${t ?? 'the file'} not found: check the path` },
  { code: 'EBUSY', hint: (t) => `${t ?? 'the device'} is in use by another process (or another fd of this one): close it there or pick another name` },
  { code: 'EINVAL', hint: () => 'the kernel rejected an argument: check names, flags and sizes' },
  { code: 'ENODEV', hint: (t) => `no such device${t === undefined ? '' : ` ${t}`}: is it in this network namespace, and is the driver loaded?` },
  { code: 'EBADF', hint: () => 'bad file descriptor: it was closed already or never opened' },
  { code: 'EBADFD', hint: () => 'the fd is in a bad state (for a tap queue: detached with IFF_DETACH_QUEUE)' },
  { code: 'EMFILE', hint: () => 'too many open files in this process: close unused fds or raise the limit (ulimit -n)' },
  { code: 'ENFILE', hint: () => 'too many open files on the system' },
  { code: 'ENOMEM', hint: () => 'out of memory (or out of address space for the mapping)' },
  { code: 'EADDRINUSE', hint: (t) => `${t ?? 'the address'} is in use: remove the stale socket file or pick another path` },
  { code: 'ECONNREFUSED', hint: (t) => `nobody is listening on ${t ?? 'the socket'}: start the peer first` },
  { code: 'EPIPE', hint: () => 'the peer closed the connection' },
  { code: 'ECONNRESET', hint: () => 'the peer reset the connection' },
  { code: 'EAGAIN', hint: () => 'the call would block on a non-blocking fd' },
  { code: 'ENAMETOOLONG', hint: (t) => `${t ?? 'the name'} is too long` },
];

/** The default hint for `code` from `syscall` (and `request`, `target`), or undefined. */
function hintFor(code: string, syscall: string, request: string | undefined, target: string | undefined): string | undefined {
  for (const r of RULES) {
    if (r.code !== code) continue;
    if (r.syscall !== undefined && r.syscall !== syscall) continue;
    if (r.request !== undefined && r.request !== request) continue;
    if (r.target !== undefined && (target === undefined || !r.target.test(target))) continue;
    return r.hint(target);
  }
  return undefined;
}

/**
 * The error class of @vnic/sys: a failed libc call, with the syscall, the ioctl request, errno,
 * its code and a hint. Message form: `open /dev/net/tun: EPERM (1) — run as root or grant CAP_NET_ADMIN`.
 */
export class SysError extends VnicError {
  /** The brand `SysError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.SysError');

  /** The failing libc call, e.g. `ioctl`. */
  readonly syscall: string;
  /** The ioctl request or sub-operation, e.g. `TUNSETIFF`. */
  readonly request: string | undefined;
  /** The errno value (e.g. 1). */
  readonly errno: number;
  /** The errno name (e.g. `EPERM`). */
  readonly code: string;
  /** The path, interface name or fd the call was about. */
  readonly target: string | undefined;
  /** What the user can do about it. */
  readonly hint: string;

  constructor(init: SysErrorInit) {
    const code = errnoName(init.errno);
    const hint = init.hint ?? hintFor(code, init.syscall, init.request, init.target) ?? errnoDescription(init.errno);
    const what = [init.syscall, init.request, init.target].filter((s) => s !== undefined && s !== '').join(' ');
    super('sys', `${what}: ${code} (${init.errno}) — ${hint}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.syscall = init.syscall;
    this.request = init.request;
    this.errno = init.errno;
    this.code = code;
    this.target = init.target;
    this.hint = hint;
  }
}
