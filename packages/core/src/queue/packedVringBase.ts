import type { QueueState } from './QueueState.ts';

/**
 * A packed ring's state in the one 32-bit value of vhost's VHOST_SET/GET_VRING_BASE (the vhost-user
 * spec's packed layout): bits 0-14 the next available position, bit 15 its wrap counter, bits 16-30
 * the next used position, bit 31 the used wrap counter. Positions must be below 32768.
 */
export const packedVringBase = {
  /** Encodes `state` (absent wrap counters mean 1). */
  encode(state: QueueState): number {
    const avail = (state.nextAvail & 0x7fff) | ((state.availWrap ?? true) ? 0x8000 : 0);
    const used = (state.nextUsed & 0x7fff) | ((state.usedWrap ?? true) ? 0x8000 : 0);
    return (avail | (used << 16)) >>> 0;
  },
  /**
   * A packed VRING_BASE as a vhost backend or frontend reads one it did not write: both halves
   * when given (QEMU's layout); a zero used half (DPDK sends and answers the available half only,
   * the ring stopped with nothing in flight) means the used side stands where the available one does.
   */
  read(num: number): QueueState {
    const s = packedVringBase.decode(num);
    return num >>> 16 === 0 ? { nextAvail: s.nextAvail, availWrap: s.availWrap ?? true, nextUsed: s.nextAvail, usedWrap: s.availWrap ?? true } : s;
  },
  /** Decodes a 32-bit vring base into positions and wrap counters. */
  decode(num: number): QueueState {
    const n = num >>> 0;
    return { nextAvail: n & 0x7fff, availWrap: (n & 0x8000) !== 0, nextUsed: (n >>> 16) & 0x7fff, usedWrap: (n & 0x8000_0000) !== 0 };
  },
} as const;
