/** Memory-mapping flags, names and values as in asm-generic/mman-common.h and linux/mman.h. */

/** Pages may be read. */
export const PROT_READ = 0x1;
/** Pages may be written. */
export const PROT_WRITE = 0x2;
/** Share the mapping with every other mapping of the same file. */
export const MAP_SHARED = 0x01;
/** What mmap returns on failure: (void *)-1. */
export const MAP_FAILED = 0xffffffffffffffffn;
/** The page size every mmap offset must be a multiple of (4 KiB on x86-64 and common aarch64 kernels). */
export const PAGE_SIZE = 4096;
