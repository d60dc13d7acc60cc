import { payloadView } from './payloadView.ts';
import type { VhostVringState } from './VhostVringState.ts';
import { VHOST_USER_VRING_STATE_SIZE } from './vhost_user.ts';

/** Reads a vring state payload (exactly 8 bytes). */
export function decodeVringState(payload: Uint8Array): VhostVringState {
  const v = payloadView(payload, VHOST_USER_VRING_STATE_SIZE, 'vring state');
  return { index: v.getUint32(0, true), num: v.getUint32(4, true) };
}
