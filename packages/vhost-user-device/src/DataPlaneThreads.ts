import type { QueueContext } from '@vnic/core';
import { IoThread, ioWorkerFeatures, type SharedNetState, type SharedQueueCounters } from '@vnic/virtio-net';
import type { SessionContext } from './BackendSession.ts';
import type { FrontendMemory } from './FrontendMemory.ts';

/** A running queue pair: its IO thread and which of its rings it serves. */
interface RunningPair {
  readonly thread: IoThread;
  readonly rx: boolean;
  readonly tx: boolean;
}

/** What the data-plane threads read from the session: ring readiness and contexts, memory, features. */
export interface DataPlaneSource {
  ready(index: number): boolean;
  queueContext(index: number, at: string): QueueContext;
  memory(): FrontendMemory['layout'];
  features(): bigint;
  /** Where a stopped ring resumes (the stopped thread's next avail index). */
  setBase(index: number, nextAvail: number): void;
}

/**
 * The data-plane threads of one vhost-user connection: one @vnic/virtio-net IoThread per queue
 * pair, started when its rings are ready and stopped before anything they use changes (the IO
 * threads of rust-vmm's vhost-user-backend). The IO-thread manager of the device core plugs in here.
 */
export class DataPlaneThreads {
  private readonly ctx: SessionContext;
  private readonly counters: SharedQueueCounters;
  private readonly netState: SharedNetState;
  private readonly source: DataPlaneSource;
  private readonly running = new Map<number, RunningPair>();

  constructor(ctx: SessionContext, counters: SharedQueueCounters, netState: SharedNetState, source: DataPlaneSource) {
    this.ctx = ctx;
    this.counters = counters;
    this.netState = netState;
    this.source = source;
  }

  /** Starts, restarts or stops each pair's IO thread to match which of its rings are ready. */
  async reconcile(): Promise<void> {
    for (let pair = 0; pair < this.ctx.queuePairs; pair++) {
      const rx = this.source.ready(2 * pair);
      const tx = this.source.ready(2 * pair + 1);
      const cur = this.running.get(pair);
      if (cur !== undefined && cur.rx === rx && cur.tx === tx) continue;
      if (cur !== undefined) await this.stopPair(pair);
      if (rx || tx) await this.startPair(pair, rx, tx);
    }
  }

  private async startPair(pair: number, rx: boolean, tx: boolean): Promise<void> {
    const at = `${this.ctx.where}: queue pair ${pair}`;
    const f = this.source.features();
    const rxq = rx ? this.source.queueContext(2 * pair, at) : undefined;
    const txq = tx ? this.source.queueContext(2 * pair + 1, at) : undefined;
    if (pair > 0) this.ctx.tap.setQueueEnabled(pair, true);
    const thread = await IoThread.start(
      {
        nic: this.ctx.where,
        pair,
        tapName: this.ctx.tap.name,
        tapFd: this.ctx.tap.fds[pair]!,
        memory: this.source.memory(),
        ...(rxq === undefined ? {} : { rx: rxq }),
        ...(txq === undefined ? {} : { tx: txq }),
        counters: this.counters.buffer,
        netState: this.netState.buffer,
        ...ioWorkerFeatures(f),
      },
      {
        onCtrlKick: () => undefined, // the frontend serves the control queue
        onNeedsReset: (reason) => this.ctx.events.emit('warning', `${reason} (the ring stays stopped until the frontend sets it up again)`),
      },
    );
    this.running.set(pair, { thread, rx, tx });
    this.ctx.events.emit('rings-started', { pair, rx, tx });
  }

  private async stopPair(pair: number): Promise<void> {
    const cur = this.running.get(pair);
    if (cur === undefined) return;
    this.running.delete(pair);
    const states = await cur.thread.stop();
    for (const [index, s] of [
      [2 * pair, states.rx],
      [2 * pair + 1, states.tx],
    ] as const) {
      const state = s ?? this.counters.ring(index);
      if (state !== undefined && ((index & 1) === 0 ? cur.rx : cur.tx)) this.source.setBase(index, state.nextAvail);
    }
    if (pair > 0 && !this.ctx.tap.closed) this.ctx.tap.setQueueEnabled(pair, false);
  }

  /** Stops the IO thread serving ring `index`, if one does (a thread of its pair that serves only the other ring runs on). */
  async stopPairOf(index: number): Promise<void> {
    const pair = index >> 1;
    const cur = this.running.get(pair);
    if (cur !== undefined && ((index & 1) === 0 ? cur.rx : cur.tx)) await this.stopPair(pair);
  }

  /** Stops every pair's IO thread. */
  async stopAll(): Promise<void> {
    for (const pair of [...this.running.keys()]) await this.stopPair(pair);
  }
}
