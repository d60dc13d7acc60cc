import { payloadView } from './payloadView.ts';
import type { VhostUserLog } from './VhostUserLog.ts';
import { VHOST_USER_LOG_SIZE } from './vhost_user.ts';

/** Reads a log description payload (exactly 16 bytes: u64 mmap_size, u64 mmap_offset). */
export function decodeLog(payload: Uint8Array): VhostUserLog {
  const v = payloadView(payload, VHOST_USER_LOG_SIZE, 'log description');
  return { mmapSize: v.getBigUint64(0, true), mmapOffset: v.getBigUint64(8, true) };
}
