import { payloadView } from './payloadView.ts';
import { VHOST_USER_U64_SIZE } from './vhost_user.ts';

/** Reads a `u64` payload (exactly 8 bytes). */
export function decodeU64(payload: Uint8Array): bigint {
  return payloadView(payload, VHOST_USER_U64_SIZE, 'u64').getBigUint64(0, true);
}
