import { ControlQueue, NetCtrlHandler, type GuestMemory, type NetNotfCoal, type QueueContext, type QueueState } from '@vnic/core';
import { epollQueueHost, sharedEpollLoop, type EpollLoop } from '@vnic/sys';
import type { SessionContext } from './SessionContext.ts';

/**
 * The control queue of one connection in whole-device mode (VhostUserDeviceOptions.controlQueue):
 * the device core's NetCtrlHandler decides every command (the same logic as the in-process
 * backend) and its ControlQueue serves the ring on the main thread, kicks watched on the process's
 * shared EpollLoop. Accepted NOTF_COAL commands reach the IO threads through
 * `ctx.guestCoalescingChanged`. RX-mode, MAC-table and VLAN commands are accepted and kept in the
 * state (the tap takes every frame; the guest's own stack filters); GUEST_OFFLOADS is not offered.
 */
export class ServerControlQueue {
  /** Vring index of the control queue (after the 2N data vrings). */
  readonly index: number;
  readonly #ctx: SessionContext;
  readonly #handler: NetCtrlHandler;
  #queue: ControlQueue | undefined;
  #loop: EpollLoop | undefined;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
    this.index = 2 * ctx.queuePairs;
    this.#handler = new NetCtrlHandler(
      {
        queuePairs: ctx.queuePairs,
        onActivePairsChanged: () => true, // every pair's IO thread runs once its rings are ready
        onGuestOffloadsChanged: () => false, // VIRTIO_NET_F_CTRL_GUEST_OFFLOADS is not offered
        onRxFilterChanged: () => true,
        onMacChanged: () => true,
        onNotfCoalChanged: (coal: NetNotfCoal) => {
          ctx.guestCoalescingChanged(coal);
          return true;
        },
        ackAnnounce: () => false, // the device never sets VIRTIO_NET_S_ANNOUNCE (no VIRTIO_NET_F_STATUS)
        macUpdated: () => undefined,
        warn: (message) => ctx.events.emit('warning', message),
      },
      new Uint8Array(6),
    );
  }

  /** True while the ring is served. */
  get running(): boolean {
    return this.#queue !== undefined;
  }

  /** Commands handled, acked OK and ERR, and malformed chains (a snapshot). */
  get counters(): NetCtrlHandler['counters'] {
    return this.#handler.counters;
  }

  /** New features negotiated: the control state starts over, and so does the guest's coalescing. */
  reset(features: bigint): void {
    this.#handler.reset(features);
    this.#ctx.guestCoalescingChanged(this.#handler.state.notfCoal);
  }

  /** Starts serving the ring (pending commands are handled at once). */
  start(qc: QueueContext, features: bigint, mem: GuestMemory): void {
    this.stop();
    this.#loop ??= sharedEpollLoop.retain();
    const where = this.#ctx.where;
    this.#queue = new ControlQueue(qc, {
      nic: where,
      features,
      mem,
      handler: this.#handler,
      host: epollQueueHost(this.#loop),
      onNeedsReset: (reason) => this.#ctx.events.emit('warning', `${reason} (the control queue stays stopped until the frontend sets it up again)`),
    });
    this.#queue.start();
  }

  /** Stops serving; returns where the ring stopped (undefined when it was not served). */
  stop(): QueueState | undefined {
    const q = this.#queue;
    this.#queue = undefined;
    return q?.stop();
  }

  /** Stops serving and gives the shared EpollLoop back. */
  async close(): Promise<void> {
    this.stop();
    if (this.#loop === undefined) return;
    this.#loop = undefined;
    await sharedEpollLoop.release();
  }
}
