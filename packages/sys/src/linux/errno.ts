/**
 * Linux errno numbers and names for the errors vnic meets, as in asm-generic/errno-base.h and
 * asm-generic/errno.h (generated from the installed headers; x86-64 and aarch64 share them).
 */

/** Operation not permitted. */
export const EPERM = 1;
/** No such file or directory. */
export const ENOENT = 2;
/** No such process. */
export const ESRCH = 3;
/** Interrupted system call. */
export const EINTR = 4;
/** I/O error. */
export const EIO = 5;
/** No such device or address. */
export const ENXIO = 6;
/** Argument list too long. */
export const E2BIG = 7;
/** Bad file number. */
export const EBADF = 9;
/** Try again. */
export const EAGAIN = 11;
/** Out of memory. */
export const ENOMEM = 12;
/** Permission denied. */
export const EACCES = 13;
/** Bad address. */
export const EFAULT = 14;
/** Device or resource busy. */
export const EBUSY = 16;
/** File exists. */
export const EEXIST = 17;
/** No such device. */
export const ENODEV = 19;
/** Not a directory. */
export const ENOTDIR = 20;
/** Is a directory. */
export const EISDIR = 21;
/** Invalid argument. */
export const EINVAL = 22;
/** File table overflow. */
export const ENFILE = 23;
/** Too many open files. */
export const EMFILE = 24;
/** Not a typewriter. */
export const ENOTTY = 25;
/** File too large. */
export const EFBIG = 27;
/** No space left on device. */
export const ENOSPC = 28;
/** Illegal seek. */
export const ESPIPE = 29;
/** Read-only file system. */
export const EROFS = 30;
/** Broken pipe. */
export const EPIPE = 32;
/** Math result not representable. */
export const ERANGE = 34;
/** Resource deadlock would occur. */
export const EDEADLK = 35;
/** File name too long. */
export const ENAMETOOLONG = 36;
/** Invalid system call number. */
export const ENOSYS = 38;
/** Directory not empty. */
export const ENOTEMPTY = 39;
/** Too many symbolic links encountered. */
export const ELOOP = 40;
/** Socket operation on non-socket. */
export const ENOTSOCK = 88;
/** Destination address required. */
export const EDESTADDRREQ = 89;
/** Message too long. */
export const EMSGSIZE = 90;
/** Protocol wrong type for socket. */
export const EPROTOTYPE = 91;
/** Protocol not available. */
export const ENOPROTOOPT = 92;
/** Protocol not supported. */
export const EPROTONOSUPPORT = 93;
/** Operation not supported on transport endpoint. */
export const EOPNOTSUPP = 95;
/** Address family not supported by protocol. */
export const EAFNOSUPPORT = 97;
/** Address already in use. */
export const EADDRINUSE = 98;
/** Cannot assign requested address. */
export const EADDRNOTAVAIL = 99;
/** Network is down. */
export const ENETDOWN = 100;
/** Network is unreachable. */
export const ENETUNREACH = 101;
/** Software caused connection abort. */
export const ECONNABORTED = 103;
/** Connection reset by peer. */
export const ECONNRESET = 104;
/** No buffer space available. */
export const ENOBUFS = 105;
/** Transport endpoint is already connected. */
export const EISCONN = 106;
/** Transport endpoint is not connected. */
export const ENOTCONN = 107;
/** Connection timed out. */
export const ETIMEDOUT = 110;
/** Connection refused. */
export const ECONNREFUSED = 111;
/** No route to host. */
export const EHOSTUNREACH = 113;
/** Operation already in progress. */
export const EALREADY = 114;
/** Operation now in progress. */
export const EINPROGRESS = 115;
/** File descriptor in bad state. */
export const EBADFD = 77;
/** Value too large for defined data type. */
export const EOVERFLOW = 75;
/** No medium found. */
export const ENOMEDIUM = 123;
/** Operation Canceled. */
export const ECANCELED = 125;

const TABLE: ReadonlyMap<number, readonly [name: string, description: string]> = new Map([
  [1, ['EPERM', 'operation not permitted']],
  [2, ['ENOENT', 'no such file or directory']],
  [3, ['ESRCH', 'no such process']],
  [4, ['EINTR', 'interrupted system call']],
  [5, ['EIO', 'I/O error']],
  [6, ['ENXIO', 'no such device or address']],
  [7, ['E2BIG', 'argument list too long']],
  [9, ['EBADF', 'bad file number']],
  [11, ['EAGAIN', 'try again']],
  [12, ['ENOMEM', 'out of memory']],
  [13, ['EACCES', 'permission denied']],
  [14, ['EFAULT', 'bad address']],
  [16, ['EBUSY', 'device or resource busy']],
  [17, ['EEXIST', 'file exists']],
  [19, ['ENODEV', 'no such device']],
  [20, ['ENOTDIR', 'not a directory']],
  [21, ['EISDIR', 'is a directory']],
  [22, ['EINVAL', 'invalid argument']],
  [23, ['ENFILE', 'file table overflow']],
  [24, ['EMFILE', 'too many open files']],
  [25, ['ENOTTY', 'not a typewriter']],
  [27, ['EFBIG', 'file too large']],
  [28, ['ENOSPC', 'no space left on device']],
  [29, ['ESPIPE', 'illegal seek']],
  [30, ['EROFS', 'read-only file system']],
  [32, ['EPIPE', 'broken pipe']],
  [34, ['ERANGE', 'math result not representable']],
  [35, ['EDEADLK', 'resource deadlock would occur']],
  [36, ['ENAMETOOLONG', 'file name too long']],
  [38, ['ENOSYS', 'invalid system call number']],
  [39, ['ENOTEMPTY', 'directory not empty']],
  [40, ['ELOOP', 'too many symbolic links encountered']],
  [88, ['ENOTSOCK', 'socket operation on non-socket']],
  [89, ['EDESTADDRREQ', 'destination address required']],
  [90, ['EMSGSIZE', 'message too long']],
  [91, ['EPROTOTYPE', 'protocol wrong type for socket']],
  [92, ['ENOPROTOOPT', 'protocol not available']],
  [93, ['EPROTONOSUPPORT', 'protocol not supported']],
  [95, ['EOPNOTSUPP', 'operation not supported on transport endpoint']],
  [97, ['EAFNOSUPPORT', 'address family not supported by protocol']],
  [98, ['EADDRINUSE', 'address already in use']],
  [99, ['EADDRNOTAVAIL', 'cannot assign requested address']],
  [100, ['ENETDOWN', 'network is down']],
  [101, ['ENETUNREACH', 'network is unreachable']],
  [103, ['ECONNABORTED', 'software caused connection abort']],
  [104, ['ECONNRESET', 'connection reset by peer']],
  [105, ['ENOBUFS', 'no buffer space available']],
  [106, ['EISCONN', 'transport endpoint is already connected']],
  [107, ['ENOTCONN', 'transport endpoint is not connected']],
  [110, ['ETIMEDOUT', 'connection timed out']],
  [111, ['ECONNREFUSED', 'connection refused']],
  [113, ['EHOSTUNREACH', 'no route to host']],
  [114, ['EALREADY', 'operation already in progress']],
  [115, ['EINPROGRESS', 'operation now in progress']],
  [77, ['EBADFD', 'file descriptor in bad state']],
  [75, ['EOVERFLOW', 'value too large for defined data type']],
  [123, ['ENOMEDIUM', 'no medium found']],
  [125, ['ECANCELED', 'operation canceled']],
]);

/** The symbolic name of an errno (`2` -> `ENOENT`), or `E<number>` when it is not in the table. */
export function errnoName(errno: number): string {
  return TABLE.get(errno)?.[0] ?? `E${errno}`;
}

/** The kernel header's one-line description of an errno (`2` -> `no such file or directory`). */
export function errnoDescription(errno: number): string {
  return TABLE.get(errno)?.[1] ?? `unknown error ${errno}`;
}
