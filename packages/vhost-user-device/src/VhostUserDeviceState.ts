import type { QueueStats } from '@vnic/core';

/** The `format` tag of a VhostUserDeviceState. */
export const VHOST_USER_DEVICE_STATE_FORMAT = 'vnic-vhost-user-device-state';
/** The version of VhostUserDeviceState this package writes and reads. */
export const VHOST_USER_DEVICE_STATE_VERSION = 1;

/** What the frontend set up for one vring, where it stopped, and its counters. */
export interface VhostUserDeviceQueueState {
  /** Vring index (rx0, tx0, rx1, ...). */
  readonly index: number;
  /** SET_VRING_NUM. */
  readonly size: number;
  /** SET_VRING_ENABLE state when saved. */
  readonly enabled: boolean;
  /** SET_VRING_ADDR: frontend virtual addresses, hex strings (`0x...`). */
  readonly descUserAddr: string;
  readonly availUserAddr: string;
  readonly usedUserAddr: string;
  /** Where the stopped ring resumes (core QueueState names): next avail index to pop, and used->idx. */
  readonly nextAvail: number;
  readonly nextUsed: number;
  /** Packed rings only (RING_PACKED acked): the wrap counters of nextAvail and nextUsed, which are then positions. */
  readonly availWrap?: boolean;
  readonly usedWrap?: boolean;
  /** The ring's counters (QueueStats without the index). */
  readonly counters: Omit<QueueStats, 'index'>;
}

/**
 * The state of the device a VhostUserDeviceServer (`vnic serve`) serves, saved after a quiesce
 * (every IO thread stopped, no chain half-done): plain JSON (features as hex strings), versioned.
 * A new server opened with it (`VhostUserDeviceOptions.state`, `vnic serve --state <file>`) takes
 * the device over: the frontend reconnects and its rings resume where they stopped, counters
 * continue. MAC, link status, config space and the control queue (RX mode, MAC tables, VLANs)
 * are the frontend's in vhost-user (it serves them), so they are not part of this state.
 */
export interface VhostUserDeviceState {
  readonly format: typeof VHOST_USER_DEVICE_STATE_FORMAT;
  readonly version: typeof VHOST_USER_DEVICE_STATE_VERSION;
  /** ISO time of the save. */
  readonly savedAt: string;
  /** The saving server's socket, tap and queue pairs. */
  readonly socket: string;
  readonly tap: string;
  readonly queuePairs: number;
  /** GET_FEATURES of the saving server, the features the frontend acked, the protocol features in force (hex). */
  readonly offered: string;
  readonly features: string;
  readonly protocolFeatures: string;
  /** One entry per vring the frontend had set up (size and addresses). */
  readonly queues: readonly VhostUserDeviceQueueState[];
}
