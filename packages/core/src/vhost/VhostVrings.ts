import type { ActivateContext } from '../device/ActivateContext.ts';
import type { QueueContext } from '../device/QueueContext.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import { hasFeature, VIRTIO_F_RING_PACKED } from '../defs/virtio.ts';
import { packedVringBase } from '../queue/packedVringBase.ts';
import type { QueueState } from '../queue/QueueState.ts';
import type { VhostControlPlane } from './VhostControlPlane.ts';
import type { VhostVringAddr } from './VhostVringAddr.ts';
import { vringUserAddr } from './vringUserAddr.ts';

const ALL_FEATURES = (1n << 64n) - 1n;

/**
 * The backend mask a vhost device hands to NetDeviceBase: for the features the vhost backend's
 * data plane decides (`ringFeatures`), what it offers (`backendFeatures`); every other bit (what
 * vnic itself implements: the control queue family, config space) left untouched.
 */
export function vhostBackendMask(backendFeatures: bigint, ringFeatures: bigint): bigint {
  return (backendFeatures & ringFeatures) | (ALL_FEATURES & ~ringFeatures);
}

/** used->idx of a ring, read from guest memory (0 when the ring is outside memory). */
export function usedIndex(mem: GuestMemory, q: QueueContext): number {
  const b = mem.slice(q.usedRing + 2, 2);
  return b === undefined ? 0 : b[0]! | (b[1]! << 8);
}

/** How one programming of the data vrings goes. */
export interface VhostVringsOptions {
  /** Features for VHOST_SET_FEATURES (already masked to what the backend handles). */
  readonly features: bigint;
  /** Where each ring resumes: its saved next-avail (default) or the used index in guest memory (reconnection, as QEMU). */
  readonly base?: (q: QueueContext) => number;
  /** Translates a ring for VHOST_SET_VRING_ADDR; throws (the package's error) naming the queue. Default vringUserAddr. */
  readonly ringAddr?: (q: QueueContext) => VhostVringAddr;
  /** Runs after SET_FEATURES, before SET_MEM_TABLE (vhost-user: SET_STATUS FEATURES_OK). */
  readonly afterFeatures?: () => Promise<void>;
  /** SET_FEATURES with `features`, afterFeatures and SET_MEM_TABLE of this memory were sent already (prepareRestore): skip them. */
  readonly prepared?: boolean;
  /** Per ring, after CALL (vhost-net: SET_VRING_ERR). */
  readonly afterRing?: (q: QueueContext) => Promise<void>;
}

/**
 * The one vring programmer of the vhost backends (kernel vhost-net and the vhost-user frontend),
 * written against VhostControlPlane: SET_FEATURES, SET_MEM_TABLE, then per data ring NUM, BASE,
 * ADDR, KICK, CALL. Every ring address is translated (and checked) before the backend sees
 * anything. The per-ring calls are made without waiting for each (see below). The caller
 * enables the rings (VHOST_NET_SET_BACKEND, SET_VRING_ENABLE) afterwards.
 */
export async function programVhostVrings(plane: VhostControlPlane, ctx: ActivateContext, options: VhostVringsOptions): Promise<void> {
  const ringAddr = options.ringAddr ?? ((q: QueueContext) => vringUserAddr(ctx.memory, q));
  const addrs = new Map(ctx.queues.map((q) => [q.index, ringAddr(q)]));
  // Packed rings (RING_PACKED acked): the base carries positions and wrap counters (vhost-user spec).
  const packed = hasFeature(options.features, VIRTIO_F_RING_PACKED);
  const base = packed
    ? (q: QueueContext) => packedVringBase.encode(q.state ?? { nextAvail: 0, nextUsed: 0 })
    : (options.base ?? ((q: QueueContext) => q.state?.nextAvail ?? 0));
  if (options.prepared !== true) {
    await plane.setFeatures(options.features);
    await options.afterFeatures?.();
    await plane.setMemTable(ctx.memory);
  }
  // Made back to back, in this order, and awaited together: a vhost-user connection pipelines
  // them (fewer round trips than one per REPLY_ACK); the first failure rejects.
  const sent: Promise<void>[] = [];
  for (const q of ctx.queues) {
    sent.push(
      plane.setVringNum(q.index, q.size),
      plane.setVringBase(q.index, base(q)),
      plane.setVringAddr(q.index, addrs.get(q.index)!),
      plane.setVringKick(q.index, q.kickFd),
      plane.setVringCall(q.index, q.callFd),
    );
    const after = options.afterRing?.(q);
    if (after !== undefined) sent.push(after);
  }
  await Promise.all(sent);
}

/**
 * Stops the data vrings and reads where each resumes: VHOST_GET_VRING_BASE for next-avail and the
 * used index from guest memory for next-used. A ring the backend cannot answer for (failure, or
 * `reachable` false: no backend) resumes from the used index, reported through `onFailure`.
 * With RING_PACKED in `features` the answer is a packed base (positions and wrap counters), and a
 * ring without an answer resumes from its activation state. Returns the states in `queues` order.
 */
export async function stopVhostVrings(
  plane: VhostControlPlane | undefined,
  mem: GuestMemory,
  queues: readonly QueueContext[],
  onFailure: (q: QueueContext, err: unknown) => void,
  features = 0n,
): Promise<QueueState[]> {
  const out: QueueState[] = [];
  let dead = plane === undefined;
  if (hasFeature(features, VIRTIO_F_RING_PACKED)) {
    for (const q of queues) {
      let state: QueueState = q.state ?? { nextAvail: 0, nextUsed: 0 };
      if (!dead) {
        try {
          state = packedVringBase.read(await plane!.getVringBase(q.index));
        } catch (err) {
          onFailure(q, err);
          dead = true;
        }
      }
      out.push(state);
    }
    return out;
  }
  for (const q of queues) {
    const used = usedIndex(mem, q);
    let nextAvail = used;
    if (!dead) {
      try {
        nextAvail = (await plane!.getVringBase(q.index)) & 0xffff;
      } catch (err) {
        onFailure(q, err);
        dead = true;
      }
    }
    out.push({ nextAvail, nextUsed: used });
  }
  return out;
}
