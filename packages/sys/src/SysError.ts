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

const HINTS: ReadonlyMap<string, HintFor> = new Map<string, HintFor>([
  ['EPERM', () => 'run as root or grant CAP_NET_ADMIN'],
  ['EACCES', (t) => `permission denied${t === undefined ? '' : ` on ${t}`}: run as root or check the file mode and owner`],
  ['ENOENT', (t) => `${t ?? 'the file'} not found: load the module (e.g. modprobe tun) or check the path`],
  ['EBUSY', (t) => `${t ?? 'the device'} is in use by another process (or another fd of this one): close it there or pick another name`],
  ['EINVAL', () => 'the kernel rejected an argument: check names, flags and sizes'],
  ['ENODEV', (t) => `no such device${t === undefined ? '' : ` ${t}`}: is it in this network namespace, and is the driver loaded?`],
  ['EBADF', () => 'bad file descriptor: it was closed already or never opened'],
  ['EBADFD', () => 'the fd is in a bad state (for a tap queue: detached with IFF_DETACH_QUEUE)'],
  ['EMFILE', () => 'too many open files in this process: close unused fds or raise the limit (ulimit -n)'],
  ['ENFILE', () => 'too many open files on the system'],
  ['ENOMEM', () => 'out of memory (or out of address space for the mapping)'],
  ['EADDRINUSE', (t) => `${t ?? 'the address'} is in use: remove the stale socket file or pick another path`],
  ['ECONNREFUSED', (t) => `nobody is listening on ${t ?? 'the socket'}: start the peer first`],
  ['EPIPE', () => 'the peer closed the connection'],
  ['ECONNRESET', () => 'the peer reset the connection'],
  ['EAGAIN', () => 'the call would block on a non-blocking fd'],
  ['ENAMETOOLONG', (t) => `${t ?? 'the name'} is too long`],
]);

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
    const hint = init.hint ?? HINTS.get(code)?.(init.target) ?? errnoDescription(init.errno);
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
