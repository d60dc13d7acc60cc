import type { DirtyLog } from '../dirtylog/DirtyLog.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { NetCtrlHandler } from '../net/NetCtrlHandler.ts';
import type { DeviceQueue } from '../queue/DeviceQueue.ts';
import { deviceQueueFor } from '../queue/deviceQueueFor.ts';
import type { QueueState } from '../queue/QueueState.ts';
import type { QueueContext } from './QueueContext.ts';
import type { QueueHost } from './QueueHost.ts';

/** What a ControlQueue needs besides the queue itself. */
export interface ControlQueueOptions {
  /** NIC id, first word of every message. */
  readonly nic: string;
  /** Acked features (EVENT_IDX, INDIRECT_DESC). */
  readonly features: bigint;
  /** Guest memory the rings live in. */
  readonly mem: GuestMemory;
  /** The command logic. */
  readonly handler: NetCtrlHandler;
  /** Kick watching and call signalling. */
  readonly host: QueueHost;
  /** Ring-level corruption: the queue stopped (reported once per activation). */
  readonly onNeedsReset: (reason: string, queueIndex: number) => void;
}

/**
 * The control queue of one activation, served by the device core for every backend: watches the
 * kick eventfd through the backend's QueueHost, runs the NetCtrlHandler over the ring (the
 * canonical loop: process, re-enable notifications, process again), signals the call eventfd,
 * reports ring corruption as NEEDS_RESET once (the ring is checked at start too) and counts the
 * malformed chains of its stats row (NetDeviceBase.stats). Kicks before `start()` are ignored; `start()` serves the ring once, so nothing the
 * driver posted meanwhile is lost.
 */
export class ControlQueue {
  /** Queue index (2N, N = the queue pairs negotiated). */
  readonly index: number;
  readonly #q: DeviceQueue;
  readonly #o: ControlQueueOptions;
  readonly #callFd: number;
  #unwatch: (() => void) | undefined;
  #running = false;
  #reported = false;

  /** Builds the queue and starts watching its kick (served once `start()` ran). */
  constructor(qc: QueueContext, options: ControlQueueOptions) {
    this.index = qc.index;
    this.#o = options;
    this.#callFd = qc.callFd;
    this.#q = deviceQueueFor(qc, options.features, options.mem);
    this.#unwatch = options.host.watchKick(qc.kickFd, () => this.#service());
  }

  /** Chains returned malformed by the ring checks (not counted by the handler). */
  get malformedChains(): number {
    return this.#q.malformed;
  }

  /** Where the queue's writes (used ring, command acks) are marked while a migration runs (null: not logging). */
  set dirtyLog(log: DirtyLog | null) {
    this.#q.dirtyLog = log;
  }

  /** True once ring-level corruption stopped the queue. */
  get needsReset(): boolean {
    return this.#q.needsReset;
  }

  /** Starts serving: reports a ring that was already bad, else serves what is pending. */
  start(): void {
    if (this.#unwatch === undefined) return;
    this.#running = true;
    this.#service();
  }

  /** Stops watching and returns the ring position (idempotent). */
  stop(): QueueState {
    this.#running = false;
    const unwatch = this.#unwatch;
    this.#unwatch = undefined;
    unwatch?.();
    return this.#q.getState();
  }

  #service(): void {
    if (!this.#running) return;
    const q = this.#q;
    const { mem, handler, host } = this.#o;
    if (!q.needsReset) {
      let notify = false;
      do {
        if (handler.process(mem, q)) notify = true;
      } while (q.enableNotification(mem));
      if (notify) host.signal(this.#callFd);
    }
    if (q.needsReset && !this.#reported) {
      this.#reported = true;
      this.#o.onNeedsReset(`${this.#o.nic}: queue ${this.index}: ${q.brokenReason}`, this.index);
    }
  }
}
