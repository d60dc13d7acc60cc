import type { DirtyLog } from '../dirtylog/DirtyLog.ts';
import type { QueueState } from '../queue/QueueState.ts';
import type { ActivateContext } from './ActivateContext.ts';
import type { NetCoalescing } from './NetCoalescing.ts';
import type { DeviceEvents } from './DeviceEvents.ts';
import type { NetDeviceState } from './state/NetDeviceState.ts';
import type { PrepareContext } from './state/PrepareContext.ts';
import type { RestoreContext } from './state/RestoreContext.ts';
import type { NetRateLimit } from '../ratelimit/NetRateLimit.ts';
import type { QueueStats } from './QueueStats.ts';
import type { TypedEmitter } from './TypedEmitter.ts';

/**
 * The one device contract every backend implements and every VMM transport drives.
 * Life cycle: offer features -> driver acks -> activate(ctx) at DRIVER_OK -> reset() (ring state
 * back) -> activate() again ... -> close(). Faults arrive as events, never as exceptions.
 */
export interface VirtioNetDevice {
  /** NIC id from the VM config. */
  readonly id: string;
  /** Backend name (`virtio-net`, `vhost-net`, `vhost-user`, ...). */
  readonly backend: string;
  /** virtio device type (VIRTIO_ID_NET). */
  readonly deviceType: number;
  /** Maximum number of queue pairs. */
  readonly queuePairs: number;
  /** Number of virtqueues the device exposes: 2 * queuePairs, plus 1 with the control queue. */
  readonly numQueues: number;
  /** Largest queue size the driver may choose. */
  readonly queueMaxSize: number;
  /** Features offered to the driver. */
  readonly deviceFeatures: bigint;
  /** Features the driver acked (0n before negotiation). */
  readonly ackedFeatures: bigint;
  /**
   * Records the driver's features. Returns false (and records nothing) when they are not a subset
   * of the offer or break a dependency rule (§5.1.3.1): the transport then refuses FEATURES_OK.
   */
  setDriverFeatures(features: bigint): boolean;
  /** Size of the device config space in bytes (depends on acked features only through content). */
  readonly configSize: number;
  /** Reads `length` bytes of device config space at `offset` (out-of-range bytes read as 0). */
  readConfig(offset: number, length: number): Uint8Array;
  /** Writes device config space (virtio-net config is read-only in VERSION_1; ignored). */
  writeConfig(offset: number, data: Uint8Array): void;
  /** Incremented every time the config space changes (virtio-mmio ConfigGeneration). */
  readonly configGeneration: number;
  /** Starts the data plane with the driver's queues and the guest memory map. */
  activate(ctx: ActivateContext): Promise<void>;
  /** True between a successful activate() and the next reset()/close(). */
  readonly activated: boolean;
  /** Stops the data plane and returns the ring state of every activated queue, in index order. */
  reset(): Promise<QueueState[]>;
  /** Link state reported in config `status` (VIRTIO_NET_F_STATUS). */
  readonly linkUp: boolean;
  /** Sets the link state; a change updates config space and raises `config-change`. */
  setLinkUp(up: boolean): void;
  /** The VMM's notification coalescing per direction (config `coalescing`, setCoalescing). */
  readonly coalescing: NetCoalescing;
  /** Sets the VMM's coalescing at run time (wins over the guest's for each direction given); `unsupported` off vnic's data plane. */
  setCoalescing(c: NetCoalescing): void;
  /** Asks the guest to announce itself (VIRTIO_NET_S_ANNOUNCE, with GUEST_ANNOUNCE). */
  announce(): void;
  /** Per-queue counters, index order. */
  stats(): QueueStats[];
  /**
   * Changes the NIC's rate limits at run time, without a reset (backends with vnic on the data
   * path: the in-process virtio-net backend and `vnic serve`). Absent on the others.
   */
  setRateLimit?(limit: NetRateLimit | undefined): void;
  /** True while quiesce()/saveState() holds a running data plane stopped. */
  readonly quiesced: boolean;
  /** Stops the data plane at a consistent point without a guest-visible reset. */
  quiesce(): Promise<void>;
  /** Restarts a quiesced data plane where its rings stopped. */
  resume(): Promise<void>;
  /** Quiesces and returns the whole device state (versioned JSON); the device stays quiesced. */
  saveState(): Promise<NetDeviceState>;
  /** Takes over a saved state on a freshly built device (refused with a `state-refused` error naming what differs). */
  restoreState(state: unknown, ctx?: RestoreContext): Promise<void>;
  /**
   * Optional, on a freshly built device before restoreState(): does now what the restore would
   * otherwise wait for (an IO thread started, the memory table and features handed to a backend),
   * so a live switch (SwitchableNetDevice) keeps the guest's data plane stopped for less time.
   * Changes nothing the guest sees; a device that was prepared and is then closed leaves nothing.
   */
  prepareRestore?(ctx: PrepareContext): Promise<void>;
  /** The log the device marks every guest page it writes in (live migration), or undefined when not logging. */
  readonly dirtyLog: DirtyLog | undefined;
  /**
   * Starts dirty logging: from the moment it resolves until stopDirtyLog(), every guest page the
   * device writes (RX buffers, used rings, control acks) is marked in `log`, across reset() and
   * activate(). Rejects with a VnicError `unsupported` when the backend cannot log (the NIC cannot
   * be live-migrated), `invalid-argument` when the log does not cover guest memory, `invalid-state`
   * while another log is in use. The same log again is a no-op.
   */
  startDirtyLog(log: DirtyLog): Promise<void>;
  /** Stops dirty logging; resolves once nothing writes the log any more (the VMM may then unmap it). */
  stopDirtyLog(): Promise<void>;
  /** Device events (config change, needs reset, link, warnings). */
  readonly events: TypedEmitter<DeviceEvents>;
  /** Releases every fd, thread, mapping and socket. The device cannot be used afterwards. */
  close(): Promise<void>;
}
