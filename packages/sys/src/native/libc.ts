/**
 * The libc bindings of vnic: the one place that calls `koffi.load`. Every prototype is FIXED
 * (one per argument shape, never variadic): a fixed `ioctl` costs ~320 ns against ~470 ns for
 * the variadic form and can run `.async`. glibc's variadic `open`/`ioctl`/`fcntl` are called
 * through fixed prototypes, which is ABI-compatible on x86-64 and aarch64 Linux for integer
 * and pointer arguments.
 *
 * Internal to @vnic/sys: other packages use the typed wrappers (Tap, EventFd, Epoll, ...).
 * Pointers are BigInt (koffi 3); a JS ArrayBuffer or typed array passed as `void *` is handed
 * to C zero-copy and must stay reachable (and unmoved) for the duration of the call.
 */
import koffi from 'koffi';
import type { KoffiFunc, LibraryHandle } from 'koffi';

/** What a `void *` parameter accepts: a BigInt address, JS memory (zero-copy), or null. */
export type Pointer = bigint | ArrayBuffer | ArrayBufferView | null;

// Any function type: each binding below names its own signature.
function bind<T extends (...args: never[]) => unknown>(lib: LibraryHandle, definition: string): KoffiFunc<T> {
  return lib.func(definition) as unknown as KoffiFunc<T>;
}

const lib = koffi.load('libc.so.6');

/** Typed libc entry points, plus koffi's errno, address and view helpers. Internal to @vnic/sys. */
export const libc = {
  open: bind<(path: string, flags: number, mode: number) => number>(lib, 'int open(const char *path, int flags, uint32_t mode)'),
  close: bind<(fd: number) => number>(lib, 'int close(int fd)'),
  read: bind<(fd: number, buf: Pointer, count: number) => number>(lib, 'long read(int fd, void *buf, size_t count)'),
  write: bind<(fd: number, buf: Pointer, count: number) => number>(lib, 'long write(int fd, void *buf, size_t count)'),
  readv: bind<(fd: number, iov: Pointer, iovcnt: number) => number>(lib, 'long readv(int fd, void *iov, int iovcnt)'),
  writev: bind<(fd: number, iov: Pointer, iovcnt: number) => number>(lib, 'long writev(int fd, void *iov, int iovcnt)'),
  /** ioctl whose third argument is a pointer (struct ifreq *, int *, unsigned int *). */
  ioctlPtr: bind<(fd: number, request: number, arg: Pointer) => number>(lib, 'int ioctl(int fd, unsigned long request, void *arg)'),
  /** ioctl whose third argument is an integer passed by value (TUNSETOFFLOAD, TUNSETPERSIST). */
  ioctlInt: bind<(fd: number, request: number, arg: number) => number>(lib, 'int ioctl(int fd, unsigned long request, unsigned long arg)'),
  fcntl: bind<(fd: number, cmd: number, arg: number) => number>(lib, 'int fcntl(int fd, int cmd, int arg)'),
  eventfd: bind<(initval: number, flags: number) => number>(lib, 'int eventfd(unsigned int initval, int flags)'),
  timerfd_create: bind<(clockid: number, flags: number) => number>(lib, 'int timerfd_create(int clockid, int flags)'),
  timerfd_settime: bind<(fd: number, flags: number, newValue: Pointer, oldValue: Pointer) => number>(
    lib,
    'int timerfd_settime(int fd, int flags, void *new_value, void *old_value)',
  ),
  memfd_create: bind<(name: string, flags: number) => number>(lib, 'int memfd_create(const char *name, unsigned int flags)'),
  ftruncate: bind<(fd: number, length: number) => number>(lib, 'int ftruncate(int fd, int64_t length)'),
  mmap: bind<(addr: Pointer, length: number, prot: number, flags: number, fd: number, offset: number) => bigint>(
    lib,
    'void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)',
  ),
  munmap: bind<(addr: bigint, length: number) => number>(lib, 'int munmap(void *addr, size_t length)'),
  epoll_create1: bind<(flags: number) => number>(lib, 'int epoll_create1(int flags)'),
  epoll_ctl: bind<(epfd: number, op: number, fd: number, event: Pointer) => number>(lib, 'int epoll_ctl(int epfd, int op, int fd, void *event)'),
  epoll_wait: bind<(epfd: number, events: Pointer, maxevents: number, timeout: number) => number>(
    lib,
    'int epoll_wait(int epfd, void *events, int maxevents, int timeout)',
  ),
  socket: bind<(domain: number, type: number, protocol: number) => number>(lib, 'int socket(int domain, int type, int protocol)'),
  socketpair: bind<(domain: number, type: number, protocol: number, sv: Pointer) => number>(
    lib,
    'int socketpair(int domain, int type, int protocol, void *sv)',
  ),
  bind: bind<(fd: number, addr: Pointer, addrlen: number) => number>(lib, 'int bind(int fd, void *addr, uint32_t addrlen)'),
  listen: bind<(fd: number, backlog: number) => number>(lib, 'int listen(int fd, int backlog)'),
  accept4: bind<(fd: number, addr: Pointer, addrlen: Pointer, flags: number) => number>(lib, 'int accept4(int fd, void *addr, void *addrlen, int flags)'),
  connect: bind<(fd: number, addr: Pointer, addrlen: number) => number>(lib, 'int connect(int fd, void *addr, uint32_t addrlen)'),
  shutdown: bind<(fd: number, how: number) => number>(lib, 'int shutdown(int fd, int how)'),
  sendmsg: bind<(fd: number, msg: Pointer, flags: number) => number>(lib, 'long sendmsg(int fd, void *msg, int flags)'),
  recvmsg: bind<(fd: number, msg: Pointer, flags: number) => number>(lib, 'long recvmsg(int fd, void *msg, int flags)'),
  setsockopt: bind<(fd: number, level: number, name: number, value: Pointer, len: number) => number>(
    lib,
    'int setsockopt(int fd, int level, int name, void *value, uint32_t len)',
  ),
  if_nametoindex: bind<(name: string) => number>(lib, 'unsigned int if_nametoindex(const char *name)'),
  setns: bind<(fd: number, nstype: number) => number>(lib, 'int setns(int fd, int nstype)'),
  sched_yield: bind<() => number>(lib, 'int sched_yield(void)'),
  /** syscall(__NR_io_uring_setup, entries, params): glibc has no wrapper. */
  io_uring_setup: bind<(nr: number, entries: number, params: Pointer) => number>(lib, 'long syscall(long nr, uint32_t entries, void *params)'),
  /** syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, sig, sigsz): glibc has no wrapper. */
  io_uring_enter: bind<(nr: number, fd: number, toSubmit: number, minComplete: number, flags: number, sig: Pointer, sigsz: number) => number>(
    lib,
    'long syscall(long nr, int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags, void *sig, size_t sigsz)',
  ),
  /** syscall(__NR_io_uring_register, fd, opcode, arg, nr_args): glibc has no wrapper. */
  io_uring_register: bind<(nr: number, fd: number, opcode: number, arg: Pointer, nrArgs: number) => number>(
    lib,
    'long syscall(long nr, int fd, uint32_t opcode, void *arg, uint32_t nr_args)',
  ),

  /** errno of the last call on this thread (inside an `.async` callback: of that call). */
  errno: (): number => koffi.errno(),
  /** Address of JS memory (BigInt). The memory must stay reachable while C uses the address. */
  address: (value: ArrayBuffer | ArrayBufferView): bigint => koffi.address(value),
  /** Zero-copy ArrayBuffer over native memory; it dangles once the memory is unmapped. */
  view: (addr: bigint | number, len: number): ArrayBuffer => koffi.view(addr, len),
} as const;
