import { EINVAL } from '../linux/errno.ts';
import { IO_URING_PARAMS, NR_io_uring_setup } from '../linux/io_uring.ts';
import { libc } from '../native/libc.ts';

/** What setupIoUring made: the ring fd (or -1) and the flags the kernel took, or the errno. */
export interface IoUringSetup {
  readonly fd: number;
  /** The candidate flags the kernel took (valid when fd >= 0). */
  readonly flags: number;
  /** errno of the last refusal (valid when fd < 0). */
  readonly errno: number;
}

/**
 * io_uring_setup with the first of `candidates` (io_uring_params.flags, tried in order) the kernel
 * takes: a kernel that does not know a flag refuses it with EINVAL, and the next set is tried;
 * any other refusal (ENOSYS, EPERM, ENOMEM) ends the probe. `params` holds the other fields; its
 * flags word is overwritten, and on success the kernel's answer is in it. Not exported from the
 * package: IoUring.create's fallback, a file of its own so specs can give it a set no kernel takes.
 */
export function setupIoUring(entries: number, params: Uint8Array, candidates: readonly number[]): IoUringSetup {
  const view = new DataView(params.buffer, params.byteOffset, params.byteLength);
  const base = params.slice();
  let errno = EINVAL;
  for (const flags of candidates) {
    params.set(base); // the kernel writes into params even when it refuses
    view.setUint32(IO_URING_PARAMS.flags, (view.getUint32(IO_URING_PARAMS.flags, true) | flags) >>> 0, true);
    const fd = libc.io_uring_setup(NR_io_uring_setup, entries, params);
    if (fd >= 0) return { fd, flags, errno: 0 };
    errno = libc.errno();
    if (errno !== EINVAL) break;
  }
  return { fd: -1, flags: 0, errno };
}
