import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import type { VhostUserConfigSpace } from './VhostUserConfigSpace.ts';
import { VHOST_USER_CONFIG_HDR_SIZE, VHOST_USER_MAX_CONFIG_SIZE } from './vhost_user.ts';

/** Reads a config space payload; its `size` field must match the bytes that follow (at most 256). */
export function decodeConfigSpace(payload: Uint8Array): VhostUserConfigSpace {
  if (payload.length < VHOST_USER_CONFIG_HDR_SIZE) {
    throw new VhostUserProtocolError('protocol', `config space payload is ${payload.length} bytes, shorter than its ${VHOST_USER_CONFIG_HDR_SIZE}-byte header`);
  }
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const offset = v.getUint32(0, true);
  const size = v.getUint32(4, true);
  const flags = v.getUint32(8, true);
  if (size > VHOST_USER_MAX_CONFIG_SIZE) throw new VhostUserProtocolError('protocol', `config space size ${size} exceeds ${VHOST_USER_MAX_CONFIG_SIZE}`);
  if (payload.length !== VHOST_USER_CONFIG_HDR_SIZE + size) {
    throw new VhostUserProtocolError('protocol', `config space payload is ${payload.length} bytes, its size field says ${VHOST_USER_CONFIG_HDR_SIZE + size}`);
  }
  return { offset, flags, payload: payload.slice(VHOST_USER_CONFIG_HDR_SIZE) };
}
