import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import type { VhostUserHeader } from './VhostUserHeader.ts';
import { VHOST_USER_HDR_SIZE } from './vhost_user.ts';

/** Reads the 12-byte header at the start of `bytes` (which must hold at least 12 bytes). */
export function decodeHeader(bytes: Uint8Array): VhostUserHeader {
  if (bytes.length < VHOST_USER_HDR_SIZE) {
    throw new VhostUserProtocolError('protocol', `vhost-user header needs ${VHOST_USER_HDR_SIZE} bytes, got ${bytes.length}`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, VHOST_USER_HDR_SIZE);
  return { request: v.getUint32(0, true), flags: v.getUint32(4, true), size: v.getUint32(8, true) };
}
