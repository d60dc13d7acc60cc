import type { DirtyLog } from '../dirtylog/DirtyLog.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { ChainArena } from './ChainArena.ts';
import type { ChainErrorMessage } from './ChainError.ts';
import type { DescriptorChain } from './DescriptorChain.ts';
import type { QueueState } from './QueueState.ts';

/**
 * The device side of a virtqueue as a data plane drives it, whatever the ring layout: `SplitQueue`
 * (§2.7) and `PackedQueue` (§2.8) both implement it, so a data plane written against it takes
 * either. Every call borrows guest memory; nothing a guest writes makes a call throw.
 *
 * A chain's `head` is the id to hand back (split: head descriptor index; packed: Buffer ID).
 * `pending` is a count for split rings and a walk over the available descriptors for packed ones:
 * use it as "is there work", not in the hot path.
 */
export interface DeviceQueue {
  /** Queue size. */
  readonly size: number;
  /** VIRTIO_F_EVENT_IDX in use. */
  readonly eventIdx: boolean;
  /** VIRTIO_F_INDIRECT_DESC in use. */
  readonly indirectDesc: boolean;
  /** Number of chains rejected by a validation rule (returned with used length 0). */
  readonly malformed: number;
  /** The last validation failure, for logs. */
  readonly lastError: ChainErrorMessage | undefined;
  /** Why the queue stopped, or undefined while it is healthy. */
  readonly brokenReason: ChainErrorMessage | undefined;
  /** True when ring-level corruption stopped the queue: the device must report NEEDS_RESET. */
  readonly needsReset: boolean;
  /** While set (live migration), every device write to the rings marks its page here; null: not logging. */
  dirtyLog: DirtyLog | null;
  /** Checks the rings against guest memory at activation; the reason when the queue stopped. */
  validate(mem: GuestMemory): ChainErrorMessage | undefined;
  /** Ring positions (and, packed, wrap counters) for reset and migration. */
  getState(): QueueState;
  /** Resumes from ring positions taken with `getState`. */
  setState(state: QueueState): void;
  /** Chains the driver made available that the device has not popped. */
  pending(mem: GuestMemory): number;
  /** The next valid chain, or undefined when none is available or the queue stopped. */
  pop(mem: GuestMemory): DescriptorChain | undefined;
  /**
   * pop() without allocating: the next valid chain parsed into `arena` (head, `availPos` = its
   * `popSeq`, buffers); false when none is available, the queue stopped or the arena is full.
   */
  popInto(mem: GuestMemory, arena: ChainArena): boolean;
  /** Chains taken off the ring so far (malformed ones too), a free-running u16; consecutive pops get consecutive values. */
  readonly popSeq: number;
  /** Gives the last `count` chains popped (one after the other, none returned) back to the ring. */
  unpop(count: number): void;
  /** The state after `unpop(count)`, without giving anything back (what a stop would resume from). */
  rewoundState(count: number): QueueState;
  /** Returns chain `head` with `len` bytes written. */
  addUsed(mem: GuestMemory, head: number, len: number): void;
  /** Returns `count` chains at once, published together. */
  addUsedBatch(mem: GuestMemory, heads: ArrayLike<number>, lens: ArrayLike<number>, count?: number): void;
  /** Whether the driver wants an interrupt for what was returned since the last call. */
  needsNotification(mem: GuestMemory): boolean;
  /** Asks for kicks; true when buffers arrived meanwhile (process them before sleeping). */
  enableNotification(mem: GuestMemory): boolean;
  /** Tells the driver kicks are not needed while the device polls. */
  disableNotification(mem: GuestMemory): void;
}
