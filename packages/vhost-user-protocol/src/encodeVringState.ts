import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import type { VhostVringState } from './VhostVringState.ts';
import { VHOST_USER_VRING_STATE_SIZE } from './vhost_user.ts';

/** A vring state payload: u32 index, u32 num. */
export function encodeVringState(state: VhostVringState): Uint8Array {
  for (const [k, n] of [
    ['index', state.index],
    ['num', state.num],
  ] as const) {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new VhostUserProtocolError('invalid-argument', `vring state ${k} ${n} is not a u32`);
  }
  const out = new Uint8Array(VHOST_USER_VRING_STATE_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, state.index, true);
  v.setUint32(4, state.num, true);
  return out;
}
