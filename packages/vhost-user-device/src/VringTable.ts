import { hasFeature, type VhostVringAddr } from '@vnic/core';
import { VHOST_USER_F_PROTOCOL_FEATURES } from '@vnic/vhost-user-protocol';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';

/** Everything the frontend told about one vring. */
export interface Vring {
  num: number | undefined;
  /** Next avail index to pop from (SET_VRING_BASE, or where the stopped thread left it). */
  base: number;
  addr: VhostVringAddr | undefined;
  kick: number | undefined;
  call: number | undefined;
  /** SET_VRING_CALL came with NOFD: calls go to an eventfd of vnic's. */
  ownCall: boolean;
  /** SET_VRING_ENABLE state (rings start disabled once VHOST_USER_F_PROTOCOL_FEATURES is acked). */
  enabled: boolean;
  /** A kick fd arrived since the last GET_VRING_BASE (vhost-user.rst "Starting and stopping rings"). */
  started: boolean;
  /** Receive rings: frames the stopped thread had read off the tap and no buffer for (QueueState.rxBacklog), for its next start. */
  rxBacklog?: readonly Uint8Array[] | undefined;
}

/**
 * The vrings of one vhost-user connection as pure state (no fds opened or closed here): what each
 * SET_VRING_* message set, and whether a ring is ready to run. The vring messages may come in any
 * order (vhost-user.rst gives none); readiness only looks at what has arrived.
 */
export class VringTable {
  readonly rings: Vring[];

  constructor(count: number) {
    this.rings = Array.from({ length: count }, () => ({
      num: undefined,
      base: 0,
      addr: undefined,
      kick: undefined,
      call: undefined,
      ownCall: false,
      enabled: false,
      started: false,
    }));
  }

  /** Ring `index`, or a VhostUserDeviceError `protocol` naming the range. */
  ring(index: number, at: string, queuePairs: number): Vring {
    const r = this.rings[index];
    if (r === undefined) {
      throw new VhostUserDeviceError(
        'protocol',
        `${at}: vring index ${index} is out of range; this device has ${this.rings.length} vrings (${queuePairs} queue pair(s)${this.rings.length > 2 * queuePairs ? ' and the control queue' : ', no control queue'})`,
      );
    }
    return r;
  }

  /**
   * True when ring `index` can run: memory mapped, features set, size, addresses, a kick fd
   * (started), a call fd (or NOFD), and enabled (or VHOST_USER_F_PROTOCOL_FEATURES not acked:
   * vhost-user.rst "Ring states").
   */
  ready(index: number, hasMemory: boolean, features: bigint | undefined): boolean {
    const r = this.rings[index];
    if (r === undefined || !hasMemory || features === undefined) return false;
    if (r.num === undefined || r.addr === undefined || r.kick === undefined || !r.started) return false;
    if (r.call === undefined && !r.ownCall) return false;
    return hasFeature(features, VHOST_USER_F_PROTOCOL_FEATURES) ? r.enabled : true;
  }
}
