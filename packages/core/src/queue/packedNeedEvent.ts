import { RING_EVENT_FLAGS_DESC, RING_EVENT_FLAGS_DISABLE, VRING_PACKED_EVENT_F_WRAP_CTR } from '../defs/virtio.ts';

const WRAP_BIT = 1 << VRING_PACKED_EVENT_F_WRAP_CTR;

/**
 * Whether the side that just advanced its position by `n` descriptors, to `pos` in the lap of wrap
 * counter `wrap`, must notify the other side, given the other side's event suppression structure
 * (`flags`, `offWrap`; virtio 1.2 §2.8.10). RING_EVENT_FLAGS_DISABLE: no. RING_EVENT_FLAGS_DESC
 * with EVENT_IDX: when the descriptor at the event offset, in the lap its wrap bit names, lies in the
 * `n` just passed (vring_need_event, an event in the previous lap counted `size` back). Anything
 * else (ENABLE, DESC without EVENT_IDX, the reserved value) and `n >= size`: yes. `n === 0`: no.
 */
export function packedNeedEvent(flags: number, offWrap: number, eventIdx: boolean, size: number, pos: number, wrap: boolean, n: number): boolean {
  if (n === 0) return false;
  const mode = flags & 0x3;
  if (mode === RING_EVENT_FLAGS_DISABLE) return false;
  if (mode !== RING_EVENT_FLAGS_DESC || !eventIdx || n >= size) return true;
  let event = offWrap & ~WRAP_BIT;
  if (((offWrap & WRAP_BIT) !== 0) !== wrap) event -= size;
  return ((pos - event - 1) & 0xffff) < n;
}
