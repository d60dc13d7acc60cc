import type { NetNotfCoal } from '@vnic/core';
import type { Tap } from '@vnic/sys';
import type { SharedCoalescing, SharedRateLimit } from '@vnic/virtio-net';
import type { VhostUserDeviceEvents } from './VhostUserDeviceEvents.ts';

/** What the server shares with each session: the tap and the offer. */
export interface SessionContext {
  /** Label for messages (`vhost-user /run/vnic.sock`). */
  readonly where: string;
  readonly tap: Tap;
  readonly tapOffloads: number;
  readonly queuePairs: number;
  /** Map guest-memory fds not sealed with F_SEAL_SHRINK (VhostUserDeviceOptions.allowUnsealedMemory). */
  readonly allowUnsealedMemory: boolean;
  /** GET_FEATURES answer. */
  readonly features: bigint;
  readonly events: VhostUserDeviceEvents;
  /** Milliseconds from connecting to SET_OWNER, and from a message's first byte to its last. */
  readonly handshakeTimeoutMs: number;
  /** The server's rate limits (VhostUserDeviceOptions.rateLimit), shared by every connection's IO threads. */
  readonly rateLimit: SharedRateLimit;
  /** The server's notification coalescing (VhostUserDeviceOptions.coalescing), read by every connection's IO threads. */
  readonly coalescing: SharedCoalescing;
  /** GET_PROTOCOL_FEATURES answer (PROTOCOL_F_CONFIG in whole-device mode). */
  readonly protocolFeatures: bigint;
  /** Whole-device mode (VhostUserDeviceOptions.controlQueue): the session serves the control queue and config space. */
  readonly controlQueue: boolean;
  /** The virtio_net_config bytes GET_CONFIG answers with (whole-device mode). */
  readonly config: Uint8Array;
  /** The guest's NOTF_COAL state changed (control queue): the server republishes what each data queue runs with. */
  guestCoalescingChanged(coal: NetNotfCoal | undefined): void;
  /** TUNSETOFFLOAD for the acked features. */
  setTapOffloads(features: bigint): void;
}
