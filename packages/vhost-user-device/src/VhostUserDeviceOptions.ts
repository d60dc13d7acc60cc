import type { NetCoalescing, NetRateLimit } from '@vnic/core';
import type { VhostUserDeviceState } from './VhostUserDeviceState.ts';

/** Options of VhostUserDeviceServer.open (validated by validateVhostUserDeviceOptions). */
export interface VhostUserDeviceOptions {
  /** The vhost-user unix socket path (at most 107 bytes). */
  readonly socket: string;
  /**
   * false (default): listen on `socket` and serve each frontend that connects, one at a time
   * (QEMU `-chardev socket,path=...` without `server`, DPDK `net_virtio_user` without `server=1`).
   * true: connect to a frontend listening on `socket`, and again after each disconnect
   * (QEMU `server=on`, DPDK `server=1`).
   */
  readonly client?: boolean;
  /** Queue pairs served (1..16, default 1); above 1 the device offers VIRTIO_NET_F_MQ and PROTOCOL_F_MQ. */
  readonly queuePairs?: number;
  /** Tap to create, or attach to when a persistent tap of that name exists (as the virtio-net backend's `tap`). Default `vnic%d`. */
  readonly tap?: string;
  /** Tap fds opened by the caller (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR), one per queue pair (as the virtio-net backend's `tapFds`). */
  readonly tapFds?: readonly number[];
  /** Make a tap the server creates outlive it. Default false. */
  readonly persistent?: boolean;
  /**
   * Serve frontends whose guest-memory fds are not memfds sealed with F_SEAL_SHRINK (a frontend
   * that shrinks such memory kills the server with SIGBUS). Default false: such a SET_MEM_TABLE is
   * refused with a message saying why.
   */
  readonly allowUnsealedMemory?: boolean;
  /**
   * Milliseconds a frontend has from connecting to SET_OWNER (vhost-user.rst: "issued when a new
   * connection is established"), and from the first byte of a message to its last; an idle or
   * slow frontend is dropped after it so the next one can be served. Default 10000.
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * A device state saved by another server (`saveState()`, `vnic serve` on SIGUSR2) to take over:
   * checked at open (format, version, queue pairs, features this tap can give); the first frontend
   * that connects resumes its rings where the state says (see resumePoint) and the counters go on.
   */
  readonly state?: VhostUserDeviceState;
  /**
   * Rate limits per direction (`rx` to the guest, `tx` from it), each a bandwidth (bytes) and an ops
   * (frames) token bucket `{ size, refillTimeMs, oneTimeBurst? }`, as the in-process backend's
   * `rateLimit`; changed at run time with `setRateLimit`.
   */
  readonly rateLimit?: NetRateLimit;
  /**
   * Notification coalescing per direction (`rx`: the receive queues, `tx`: the transmit queues),
   * `{ maxPackets, maxUsecs }` as a NIC's `coalescing` in the VM config: the frontend (QEMU,
   * DPDK) serves the control queue itself, so the guest's `ethtool -C` never reaches this server;
   * this is the VMM-side setting its IO threads notify with. Changed at run time with `setCoalescing`.
   */
  readonly coalescing?: NetCoalescing;
  /**
   * Whole-device mode (default false). true: the device also offers VIRTIO_NET_F_CTRL_VQ with
   * VIRTIO_NET_F_NOTF_COAL and VQ_NOTF_COAL, and PROTOCOL_F_CONFIG (GET_CONFIG answers the
   * virtio_net_config), and serves the control queue itself (the vring after the data vrings): the
   * guest's `ethtool -C` reaches the IO threads. For frontends that pass every virtqueue and config
   * space through (user-mode Linux's virtio_uml, QEMU's vhost-user-device-pci); QEMU's and DPDK's
   * net frontends serve the control queue themselves and need the default.
   */
  readonly controlQueue?: boolean;
  /** Label used in messages and IO thread errors (default `vhost-user <socket>`). */
  readonly name?: string;
}
