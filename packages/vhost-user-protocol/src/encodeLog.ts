import type { VhostUserLog } from './VhostUserLog.ts';
import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import { VHOST_USER_LOG_SIZE } from './vhost_user.ts';

const U64_MAX = (1n << 64n) - 1n;

/** A log description payload (u64 mmap_size, u64 mmap_offset) for SET_LOG_BASE. */
export function encodeLog(log: VhostUserLog): Uint8Array {
  for (const [name, v] of [
    ['mmap_size', log.mmapSize],
    ['mmap_offset', log.mmapOffset],
  ] as const) {
    if (v < 0n || v > U64_MAX) throw new VhostUserProtocolError('invalid-argument', `vhost-user log description: ${name} ${v} is out of the u64 range`);
  }
  const out = new Uint8Array(VHOST_USER_LOG_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, log.mmapSize, true);
  v.setBigUint64(8, log.mmapOffset, true);
  return out;
}
