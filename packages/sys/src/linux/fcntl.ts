/**
 * File flags and fcntl commands, names and values as in asm-generic/fcntl.h,
 * linux/eventfd.h (EFD_* share the O_* values) and linux/memfd.h.
 */

/** open: read only. */
export const O_RDONLY = 0o0;
/** open: write only. */
export const O_WRONLY = 0o1;
/** open: read and write. */
export const O_RDWR = 0o2;
/** open/F_SETFL: non-blocking I/O. */
export const O_NONBLOCK = 0o4000;
/** open: close on exec. */
export const O_CLOEXEC = 0o2000000;

/** fcntl: duplicate to the lowest free fd >= arg, with close-on-exec. */
export const F_DUPFD_CLOEXEC = 1030;
/** fcntl: get the file status flags. */
export const F_GETFL = 3;
/** fcntl: set the file status flags. */
export const F_SETFL = 4;

/** eventfd: read returns 1 and decrements instead of returning and zeroing the counter. */
export const EFD_SEMAPHORE = 1;
/** eventfd: close on exec. */
export const EFD_CLOEXEC = O_CLOEXEC;
/** eventfd: non-blocking. */
export const EFD_NONBLOCK = O_NONBLOCK;

/** memfd_create: close on exec. */
export const MFD_CLOEXEC = 0x1;
/** memfd_create: allow F_ADD_SEALS. */
export const MFD_ALLOW_SEALING = 0x2;

/** fcntl: add seals to a memfd (linux/fcntl.h F_LINUX_SPECIFIC_BASE + 9). */
export const F_ADD_SEALS = 1033;
/** fcntl: get a memfd's seals (F_LINUX_SPECIFIC_BASE + 10). */
export const F_GET_SEALS = 1034;
/** Seal: no further seals may be added. */
export const F_SEAL_SEAL = 0x1;
/** Seal: the file may not shrink. */
export const F_SEAL_SHRINK = 0x2;
/** Seal: the file may not grow. */
export const F_SEAL_GROW = 0x4;
/** Seal: the contents may not be written. */
export const F_SEAL_WRITE = 0x8;
