import type { NetNotfCoal } from '../../net/NetNotfCoal.ts';
import type { NetCtrlState } from '../../net/NetCtrlState.ts';
import type { NetCtrlCounters } from '../NetCtrlCounters.ts';
import type { QueueStats } from '../QueueStats.ts';

/**
 * The whole state of one virtio-net device, as `saveState()` returns it and `restoreState()` takes
 * it back: plain JSON (feature masks as `0x` hex strings, MACs as six byte values), versioned by
 * `format` + `version`. It carries what the guest sees (features, config space, control-queue
 * state, ring positions, link) and the counters; never an fd, a path or a host address, so it can
 * be restored onto another tap, another vhost-user socket, another process or host.
 */
export interface NetDeviceState {
  /** Always `vnic.net-device-state`. */
  readonly format: 'vnic.net-device-state';
  /** Layout version (NET_DEVICE_STATE_VERSION); another version is refused. */
  readonly version: number;
  /** NIC id of the device that saved it. */
  readonly id: string;
  /** Backend of the device that saved it (a restore may use another one). */
  readonly backend: string;
  /** Feature masks, `0x` hex. */
  readonly features: {
    /** What the device offered. */
    readonly offered: string;
    /** What the driver acked (`0x0`: not negotiated). */
    readonly acked: string;
  };
  /** Config space fields and the device limits the guest saw. */
  readonly config: NetDeviceStateConfig;
  /** Link state and a pending VIRTIO_NET_S_ANNOUNCE. */
  readonly link: {
    readonly up: boolean;
    readonly announce: boolean;
  };
  /** Control-queue state (virtio 1.2 §5.1.6.5). */
  readonly ctrl: NetCtrlSnapshot;
  /** True when the driver had set DRIVER_OK (the rings below were running). */
  readonly activated: boolean;
  /** Ring state of every enabled queue, index order (the control queue included); empty when not activated. */
  readonly queues: readonly NetQueueSnapshot[];
  /** Counters, so a restored device continues them. */
  readonly counters: {
    /** stats() rows, index order. */
    readonly queues: readonly QueueStats[];
    /** Control-queue command counters. */
    readonly ctrl: NetCtrlCounters;
  };
}

/** The config-space fields and guest-visible options of a saved device. */
export interface NetDeviceStateConfig {
  /** Configured MAC (six bytes). */
  readonly mac: readonly number[];
  /** Advertised MTU (0: none). */
  readonly mtu: number;
  /** max_virtqueue_pairs: the queue pairs the device offered. */
  readonly maxVirtqueuePairs: number;
  /** Largest queue size the device offered. */
  readonly queueMaxSize: number;
  /** Virtqueues the device exposed. */
  readonly numQueues: number;
}

/** NetCtrlState as JSON: the flags and counts as they are, byte strings as arrays, masks as hex. */
export interface NetCtrlSnapshot extends Pick<
  NetCtrlState,
  'promisc' | 'allmulti' | 'alluni' | 'nomulti' | 'nouni' | 'nobcast' | 'uniOverflow' | 'multiOverflow' | 'activePairs'
> {
  /** The default MAC (six bytes). */
  readonly mac: readonly number[];
  readonly unicast: readonly (readonly number[])[];
  readonly multicast: readonly (readonly number[])[];
  /** `all` (every VLAN accepted) or the VLAN ids the filter accepts, ascending. */
  readonly vlans: 'all' | readonly number[];
  /** Guest offloads, `0x` hex feature mask. */
  readonly guestOffloads: string;
  /** Notification coalescing as the driver set it (absent in states saved before vnic had it: all 0). */
  readonly notfCoal?: NetNotfCoal;
}

/** One virtqueue as the driver set it up and where the device stopped in it. */
export interface NetQueueSnapshot {
  /** Queue index. */
  readonly index: number;
  /** Queue size. */
  readonly size: number;
  /** Guest-physical address of the descriptor table. */
  readonly descTable: number;
  /** Guest-physical address of the available ring. */
  readonly availRing: number;
  /** Guest-physical address of the used ring. */
  readonly usedRing: number;
  /** `last_avail_idx`. */
  readonly nextAvail: number;
  /** `used_idx`. */
  readonly nextUsed: number;
  /** Packed rings only: the Driver Ring Wrap Counter of `nextAvail` (absent: a split ring). */
  readonly availWrap?: boolean;
  /** Packed rings only: the Device Ring Wrap Counter (absent: a split ring). */
  readonly usedWrap?: boolean;
  /**
   * Receive queues: frames the device had taken in but no guest buffer for when it stopped
   * (QueueState.rxBacklog), oldest first, each its virtio_net_hdr + frame as lower-case hex.
   */
  readonly rxBacklog?: readonly string[];
}
