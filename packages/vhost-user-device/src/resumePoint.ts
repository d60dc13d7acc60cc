import type { VhostUserDeviceQueueState } from './VhostUserDeviceState.ts';
import type { Vring } from './VringTable.ts';

/** Where a ring taken over from a saved state starts, and why. */
export interface ResumePoint {
  /** The avail index the IO thread pops from first. */
  readonly nextAvail: number;
  /** `agreed`: the frontend's SET_VRING_BASE is the saved one; `state`: the saved index was taken over the frontend's; `frontend`: the frontend's was kept. */
  readonly from: 'agreed' | 'state' | 'frontend';
  /** Why, for the log. */
  readonly why: string;
}

/**
 * The first start of vring `ring` after a take-over: the saved state and the frontend's
 * SET_VRING_BASE may disagree. A frontend that reconnects to a new backend after the old one went
 * away may not know where the old one stopped (DPDK virtio_user sends base 0 on every reconnect);
 * QEMU sends the used index it read back. The saved index wins only when the frontend set up the
 * same ring again (same size and addresses) AND the ring in memory is where the state left it
 * (`usedIdx`, the used->idx read from guest memory, equals the saved `nextUsed`); otherwise the
 * frontend moved the ring itself meanwhile (QEMU drops what the guest sends while no backend is
 * connected and marks it used) or re-initialised it, and its base stands.
 */
export function resumePoint(saved: VhostUserDeviceQueueState, ring: Vring, usedIdx: number): ResumePoint {
  const a = ring.addr;
  const same =
    a !== undefined &&
    ring.num === saved.size &&
    a.descUserAddr === BigInt(saved.descUserAddr) &&
    a.availUserAddr === BigInt(saved.availUserAddr) &&
    a.usedUserAddr === BigInt(saved.usedUserAddr);
  if (!same) return { nextAvail: ring.base, from: 'frontend', why: 'the frontend set the ring up anew (another size or addresses than the saved ones)' };
  if (ring.base === saved.nextAvail) return { nextAvail: ring.base, from: 'agreed', why: 'the frontend resumes it where the state says' };
  if (usedIdx === saved.nextUsed) {
    return {
      nextAvail: saved.nextAvail,
      from: 'state',
      why: `the frontend said base ${ring.base}, but the ring in memory is where the state left it (used idx ${usedIdx})`,
    };
  }
  return {
    nextAvail: ring.base,
    from: 'frontend',
    why: `the ring moved on since the save (used idx ${usedIdx}, saved ${saved.nextUsed}): the frontend served or reset it meanwhile`,
  };
}
