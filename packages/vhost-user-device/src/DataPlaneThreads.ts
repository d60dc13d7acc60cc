import type { QueueContext, QueueState } from '@vnic/core';
import { type IoThreadStates, QueuePairThreads, type SharedNetState, type SharedQueueCounters } from '@vnic/virtio-net';
import type { SessionContext } from './SessionContext.ts';
import type { FrontendLog } from './FrontendLog.ts';
import type { FrontendMemory } from './FrontendMemory.ts';

/** What the data-plane threads read from the session: ring readiness and contexts, memory, features. */
export interface DataPlaneSource {
  ready(index: number): boolean;
  queueContext(index: number, at: string): QueueContext;
  memory(): FrontendMemory['layout'];
  features(): bigint;
  /** Where a stopped ring resumes (the stopped thread's ring state). */
  setBase(index: number, state: QueueState): void;
}

/**
 * The data-plane threads of one vhost-user connection: one @vnic/virtio-net IoThread per queue
 * pair (run by its QueuePairThreads, the manager the in-process device uses too), started when its
 * rings are ready and stopped before anything they use changes (the IO threads of rust-vmm's
 * vhost-user-backend). Tap queue attach/detach stays here.
 */
export class DataPlaneThreads {
  private readonly ctx: SessionContext;
  private readonly source: DataPlaneSource;
  private readonly threads: QueuePairThreads;
  /** Which rings each running pair serves. */
  private readonly served = new Map<number, { readonly rx: boolean; readonly tx: boolean }>();

  constructor(ctx: SessionContext, counters: SharedQueueCounters, netState: SharedNetState, source: DataPlaneSource) {
    this.ctx = ctx;
    this.source = source;
    this.threads = new QueuePairThreads({
      nic: ctx.where,
      tap: ctx.tap,
      counters,
      netState,
      rateLimit: ctx.rateLimit,
      coalescing: ctx.coalescing,
      handlers: {
        onCtrlKick: () => undefined, // the frontend serves the control queue
        onNeedsReset: (reason) => ctx.events.emit('warning', `${reason} (the ring stays stopped until the frontend sets it up again)`),
      },
    });
  }

  /** Starts, restarts or stops each pair's IO thread to match which of its rings are ready. */
  async reconcile(): Promise<void> {
    for (let pair = 0; pair < this.ctx.queuePairs; pair++) {
      const rx = this.source.ready(2 * pair);
      const tx = this.source.ready(2 * pair + 1);
      const cur = this.served.get(pair);
      if (cur !== undefined && cur.rx === rx && cur.tx === tx) continue;
      if (cur !== undefined) await this.stopPair(pair);
      if (rx || tx) await this.startPair(pair, rx, tx);
    }
  }

  private async startPair(pair: number, rx: boolean, tx: boolean): Promise<void> {
    const at = `${this.ctx.where}: queue pair ${pair}`;
    const rxq = rx ? this.source.queueContext(2 * pair, at) : undefined;
    const txq = tx ? this.source.queueContext(2 * pair + 1, at) : undefined;
    if (pair > 0) this.ctx.tap.setQueueEnabled(pair, true);
    await this.threads.start(pair, {
      memory: this.source.memory(),
      features: this.source.features(),
      ...(rxq === undefined ? {} : { rx: rxq }),
      ...(txq === undefined ? {} : { tx: txq }),
    });
    this.served.set(pair, { rx, tx });
    this.ctx.events.emit('rings-started', { pair, rx, tx });
  }

  private async stopPair(pair: number): Promise<void> {
    if (!this.served.delete(pair)) return;
    this.stopped(pair, await this.threads.stop(pair));
  }

  /** After pair `pair`'s thread stopped: where its served rings resume, then its tap queue detached. */
  private stopped(pair: number, s: IoThreadStates): void {
    if (s.rx !== undefined) this.source.setBase(2 * pair, s.rx);
    if (s.tx !== undefined) this.source.setBase(2 * pair + 1, s.tx);
    if (pair > 0 && !this.ctx.tap.closed) this.ctx.tap.setQueueEnabled(pair, false);
  }

  /** Stops the IO thread serving ring `index`, if one does (a thread of its pair that serves only the other ring runs on). */
  async stopPairOf(index: number): Promise<void> {
    const pair = index >> 1;
    const cur = this.served.get(pair);
    if (cur !== undefined && ((index & 1) === 0 ? cur.rx : cur.tx)) await this.stopPair(pair);
  }

  /**
   * Makes every pair's IO thread, running and started later, mark the guest pages it writes (RX
   * buffers, used rings) in `log`; undefined stops. Resolves once every running thread switched:
   * after that nothing writes the previous log, so it may be unmapped. `setBits` (a u32 over a
   * SharedArrayBuffer) counts every bit the threads turn from 0 to 1 (DirtyLog setBits).
   */
  setDirtyLog(log: FrontendLog | undefined, setBits?: Uint32Array): Promise<void> {
    if (log === undefined) return this.threads.setDirtyLog(undefined);
    const counter = setBits === undefined ? {} : { setBits: setBits.buffer as SharedArrayBuffer };
    return this.threads.setDirtyLog({ kind: 'host', hostAddr: log.hostAddr, byteLength: log.size, ...counter });
  }

  /** Makes the running IO threads apply the coalescing just published in the session's SharedCoalescing. */
  coalescingChanged(): void {
    this.threads.coalescingChanged();
  }

  /** Stops every pair's IO thread. */
  async stopAll(): Promise<void> {
    this.served.clear();
    for (const [pair, s] of await this.threads.stopAll()) this.stopped(pair, s);
  }
}
