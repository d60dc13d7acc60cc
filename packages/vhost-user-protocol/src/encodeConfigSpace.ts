import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import type { VhostUserConfigSpace } from './VhostUserConfigSpace.ts';
import { VHOST_USER_CONFIG_HDR_SIZE, VHOST_USER_MAX_CONFIG_SIZE } from './vhost_user.ts';

/** A config space payload: u32 offset, u32 size, u32 flags, then `size` bytes. */
export function encodeConfigSpace(config: VhostUserConfigSpace): Uint8Array {
  const size = config.payload.length;
  if (size > VHOST_USER_MAX_CONFIG_SIZE)
    throw new VhostUserProtocolError('invalid-argument', `config space access of ${size} bytes exceeds ${VHOST_USER_MAX_CONFIG_SIZE}`);
  if (!Number.isInteger(config.offset) || config.offset < 0 || config.offset + size > VHOST_USER_MAX_CONFIG_SIZE) {
    throw new VhostUserProtocolError('invalid-argument', `config space access at ${config.offset}+${size} is outside 0..${VHOST_USER_MAX_CONFIG_SIZE}`);
  }
  const out = new Uint8Array(VHOST_USER_CONFIG_HDR_SIZE + size);
  const v = new DataView(out.buffer);
  v.setUint32(0, config.offset, true);
  v.setUint32(4, size, true);
  v.setUint32(8, config.flags >>> 0, true);
  out.set(config.payload, VHOST_USER_CONFIG_HDR_SIZE);
  return out;
}
