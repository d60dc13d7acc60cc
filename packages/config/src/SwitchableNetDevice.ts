import {
  errorMessage,
  SerialQueue,
  TypedEmitter,
  type ActivateContext,
  type DeviceEvents,
  type DirtyLog,
  type GuestMemoryLayout,
  type NetCoalescing,
  type NetDeviceState,
  type NetRateLimit,
  type QueueState,
  type QueueStats,
  type RestoreContext,
  type VirtioNetDevice,
} from '@vnic/core';
import { ConfigError } from './ConfigError.ts';
import type { SwitchBackendOptions } from './SwitchBackendOptions.ts';
import type { SwitchReport } from './SwitchReport.ts';

/** Builds the device of one `net[]` entry (validated as the config package validates a VM config). */
export type NetEntryBuilder = (entry: unknown) => Promise<VirtioNetDevice>;

/** Something that runs beside a SwitchableNetDevice (the live fallback) and stops with it. */
export interface SwitchPolicy {
  /** Called after every switch (and once at start). */
  evaluate(): void;
  /** Stops timers and waits for a switch the policy started. */
  close(): Promise<void>;
}

const EVENTS = ['config-change', 'needs-reset', 'link', 'used-buffer', 'warning'] as const satisfies readonly (keyof DeviceEvents)[];
type Pending = { [K in keyof DeviceEvents]: [K, Parameters<DeviceEvents[K]>] }[keyof DeviceEvents];

/**
 * One NIC whose backend can change while the guest runs: a VirtioNetDevice that delegates every
 * call to the backend device it currently runs on (`current`) and re-emits that device's events,
 * so the VMM's transport keeps ONE object across switches. `switchBackend(entry)` moves the running
 * NIC to the device built from another `net[]` entry (same id, MAC and guest-visible limits):
 *
 * 1. build: the new device is built (tap opened, vhost-user socket connected and negotiated) and
 *    prepared (prepareRestore: an IO thread started, the backend given the memory table) while the
 *    old one still runs;
 * 2. quiesce: the old data plane stops at a consistent point (every chain done and used, or still
 *    in the avail ring), its state is taken (saveState);
 * 3. restore: the new device takes the state over (restoreState) on the SAME rings, guest memory
 *    and kick/call eventfds the VMM gave at activation, from the ring positions where the old one
 *    stopped (in-flight chains neither lost nor done twice), and starts;
 * 4. the old device is closed.
 *
 * The guest sees no reset and no config change: config reads and `configGeneration` continue
 * unchanged (the generation only moves when the new device's config bytes differ, e.g. a link
 * flap or, with `announce`, VIRTIO_NET_S_ANNOUNCE). A switch that fails at any step closes what
 * it built, resumes the old data plane and rejects with a ConfigError `switch-failed` naming the
 * step; the NIC stays on the old backend, running. Switches, activate, quiesce/resume, save/restore
 * and close run one at a time.
 *
 * `deviceFeatures` is the current device's offer: a guest that negotiated on one backend can move to
 * another only when that one offers every acked feature (otherwise the restore step refuses, naming
 * the features).
 */
export class SwitchableNetDevice implements VirtioNetDevice {
  /** NIC id (the same on every backend). */
  readonly id: string;
  /** Events of the current backend device, re-emitted. */
  readonly events = new TypedEmitter<DeviceEvents>();

  #current: VirtioNetDevice;
  #unsubscribe: () => void;
  readonly #build: NetEntryBuilder;
  readonly #ops = new SerialQueue();
  /** Memory map and per-queue eventfds of the running activation (or restore). */
  #memory: GuestMemoryLayout | undefined;
  #queueFds: RestoreContext['queues'] = [];
  /** The link state the VMM asked for (a backend may hold it down while its peer is gone). */
  #adminLink: boolean;
  /** Added to the current device's generation so the guest's ConfigGeneration continues across switches. */
  #generationBase = 0;
  #switches = 0;
  #closing: Promise<void> | undefined;
  #policy: SwitchPolicy | undefined;

  /**
   * @param device the backend device the NIC starts on
   * @param build builds a device from a `net[]` entry (createNetDevices passes the container's)
   * @param policy optional policy started beside it (the live fallback)
   */
  constructor(device: VirtioNetDevice, build: NetEntryBuilder, policy?: (nic: SwitchableNetDevice) => SwitchPolicy) {
    this.id = device.id;
    this.#current = device;
    this.#build = build;
    this.#adminLink = device.linkUp;
    this.#unsubscribe = this.#forward(device, (e) => this.#emit(e));
    if (policy !== undefined) {
      this.#policy = policy(this);
      this.#policy.evaluate();
    }
  }

  /** The backend device the NIC runs on now (replaced by each switch). */
  get current(): VirtioNetDevice {
    return this.#current;
  }

  /** Switches made so far. */
  get switches(): number {
    return this.#switches;
  }

  get backend(): string {
    return this.#current.backend;
  }
  get deviceType(): number {
    return this.#current.deviceType;
  }
  get queuePairs(): number {
    return this.#current.queuePairs;
  }
  get numQueues(): number {
    return this.#current.numQueues;
  }
  get queueMaxSize(): number {
    return this.#current.queueMaxSize;
  }
  get deviceFeatures(): bigint {
    return this.#current.deviceFeatures;
  }
  get ackedFeatures(): bigint {
    return this.#current.ackedFeatures;
  }
  setDriverFeatures(features: bigint): boolean {
    return this.#current.setDriverFeatures(features);
  }
  get configSize(): number {
    return this.#current.configSize;
  }
  readConfig(offset: number, length: number): Uint8Array {
    return this.#current.readConfig(offset, length);
  }
  writeConfig(offset: number, data: Uint8Array): void {
    this.#current.writeConfig(offset, data);
  }
  get configGeneration(): number {
    return (this.#current.configGeneration + this.#generationBase) >>> 0;
  }
  get activated(): boolean {
    return this.#current.activated;
  }
  get linkUp(): boolean {
    return this.#current.linkUp;
  }
  /** Sets the link state on the current device and remembers it for the next ones. */
  setLinkUp(up: boolean): void {
    this.#adminLink = up;
    this.#current.setLinkUp(up);
  }
  announce(): void {
    this.#current.announce();
  }
  stats(): QueueStats[] {
    return this.#current.stats();
  }
  get quiesced(): boolean {
    return this.#current.quiesced;
  }
  /** The current device's VMM coalescing (a switch takes the new entry's own `coalescing`). */
  get coalescing(): NetCoalescing {
    return this.#current.coalescing;
  }
  setCoalescing(c: NetCoalescing): void {
    this.#current.setCoalescing(c);
  }
  /** Sets the current device's rate limit (a switch takes the new entry's own `rateLimit`). */
  setRateLimit(limit: NetRateLimit | undefined): void {
    if (this.#current.setRateLimit === undefined) {
      throw new ConfigError('invalid-config', `${this.id}: backend "${this.#current.backend}" takes no rate limit (vnic is not on its data path)`);
    }
    this.#current.setRateLimit(limit);
  }
  /** The dirty log of the current device; a switch starts it on the new device before the old one stops. */
  get dirtyLog(): DirtyLog | undefined {
    return this.#current.dirtyLog;
  }
  startDirtyLog(log: DirtyLog): Promise<void> {
    return this.#ops.run(() => this.#current.startDirtyLog(log));
  }
  stopDirtyLog(): Promise<void> {
    return this.#ops.run(() => this.#current.stopDirtyLog());
  }

  /** Activates the current device; the memory map and eventfds are kept for later switches. */
  activate(ctx: ActivateContext): Promise<void> {
    return this.#ops.run(async () => {
      await this.#current.activate(ctx);
      this.#memory = ctx.memory;
      this.#queueFds = ctx.queues.map((q) => ({ index: q.index, kickFd: q.kickFd, callFd: q.callFd }));
    });
  }

  /** Resets the current device at once (its negotiation clears synchronously, as on every device). */
  reset(): Promise<QueueState[]> {
    this.#memory = undefined;
    this.#queueFds = [];
    return this.#current.reset();
  }

  quiesce(): Promise<void> {
    return this.#ops.run(() => this.#current.quiesce());
  }
  resume(): Promise<void> {
    return this.#ops.run(() => this.#current.resume());
  }
  saveState(): Promise<NetDeviceState> {
    return this.#ops.run(() => this.#current.saveState());
  }
  /** Restores the current device; the restore context's memory map and eventfds are kept for later switches. */
  restoreState(state: unknown, ctx?: RestoreContext): Promise<void> {
    return this.#ops.run(async () => {
      await this.#current.restoreState(state, ctx);
      this.#adminLink = this.#current.linkUp;
      if (ctx !== undefined && this.#current.activated) {
        this.#memory = ctx.memory;
        this.#queueFds = ctx.queues.map((q) => ({ index: q.index, kickFd: q.kickFd, callFd: q.callFd }));
      }
    });
  }

  /**
   * Moves the NIC to the device built from `entry` (a `net[]` entry as in the VM config, same `id`;
   * e.g. `{ id, backend: 'vhost-user', mac, 'vhost-user': { socket } }`) without a guest reset:
   * build, quiesce + save, restore on the same rings and eventfds, close the old one (see the
   * class doc). Rejects with ConfigError `switch-failed` naming the step (`build`, `quiesce`,
   * `restore`; `resume` when even the old data plane could not be restarted: `needs-reset` is then
   * emitted) with the NIC left on the old backend; `invalid-config` when the entry is invalid.
   */
  switchBackend(entry: unknown, options: SwitchBackendOptions = {}): Promise<SwitchReport> {
    if (this.#closing !== undefined) return Promise.reject(new ConfigError('switch-failed', `${this.id}: switchBackend() on a closed NIC`));
    return this.#ops.run(() => this.#switch(entry, options));
  }

  /** Stops the policy, then closes the current device. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#policy?.close();
      } finally {
        await this.#ops.run(() => this.#current.close());
      }
    })();
    return this.#closing;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  async #switch(entry: unknown, options: SwitchBackendOptions): Promise<SwitchReport> {
    if (this.#closing !== undefined) throw new ConfigError('switch-failed', `${this.id}: switchBackend() on a closed NIC`);
    const old = this.#current;
    const target = targetName(entry);
    const fail = (step: string, err: unknown): ConfigError =>
      new ConfigError(
        'switch-failed',
        `${this.id}: switch from "${old.backend}" to "${target}" failed at ${step}: ${errorMessage(err)}; the NIC stays on "${old.backend}"`,
        {
          cause: err,
          step,
        },
      );
    if (typeof entry === 'object' && entry !== null && (entry as { id?: unknown }).id !== this.id) {
      throw new ConfigError(
        'invalid-config',
        `${this.id}: switchBackend: entry.id must be "${this.id}" (the NIC being switched), got ${JSON.stringify((entry as { id?: unknown }).id)}`,
      );
    }
    let next: VirtioNetDevice;
    try {
      next = await this.#build(entry);
    } catch (err) {
      if (ConfigError.is(err) && err.kind === 'invalid-config') throw err;
      throw fail('build', err);
    }
    // Still before the quiesce: what the restore would wait for (an IO thread, a backend's memory table).
    const prepareMemory = this.#memory;
    if (next.prepareRestore !== undefined && prepareMemory !== undefined && old.activated) {
      try {
        await next.prepareRestore({ memory: prepareMemory, features: old.ackedFeatures });
      } catch (err) {
        await next.close().catch(() => undefined);
        throw fail('build', err);
      }
    }
    const pending: Pending[] = [];
    const unsubscribeNext = this.#forward(next, (e) => pending.push(e));
    const configBefore = old.readConfig(0, old.configSize);
    const generationBefore = this.configGeneration;
    const quiescedAt = performance.now();
    const undo = async (step: string, err: unknown): Promise<ConfigError> => {
      unsubscribeNext();
      await next.close().catch(() => undefined);
      try {
        await old.resume();
      } catch (err2) {
        const e = new ConfigError(
          'switch-failed',
          `${this.id}: switch from "${old.backend}" to "${target}" failed at ${step}: ${errorMessage(err)}; resuming "${old.backend}" failed too: ${errorMessage(err2)}`,
          { cause: err, step: 'resume' },
        );
        this.events.emit('needs-reset', e.message, undefined);
        return e;
      }
      return fail(step, err);
    };
    let state: NetDeviceState;
    try {
      await old.quiesce();
      state = await old.saveState();
    } catch (err) {
      throw await undo('quiesce', err);
    }
    const savedAt = performance.now();
    const running = state.activated;
    try {
      if (running || old.ackedFeatures !== 0n) {
        const memory = this.#memory;
        if (running && memory === undefined) throw new Error('no activation context recorded (activate the NIC through this object)');
        await next.restoreState(state, memory === undefined ? undefined : { memory, queues: this.#queueFds, announce: options.announce === true });
      }
      // A migration in progress keeps logging across the switch: the new data plane marks from its first write.
      const log = old.dirtyLog;
      if (log !== undefined) await next.startDirtyLog(log);
    } catch (err) {
      throw await undo('restore', err);
    }
    const startedAt = performance.now();
    // Commit: the transport's calls and the VMM's listeners go to the new device from here on.
    this.#unsubscribe();
    this.#current = next;
    this.#switches++;
    const configAfter = next.readConfig(0, next.configSize);
    this.#generationBase = (generationBefore + (sameBytes(configBefore, configAfter) ? 0 : 1) - next.configGeneration) >>> 0;
    this.#unsubscribe = this.#forward(next, (e) => this.#emit(e));
    unsubscribeNext();
    for (const e of pending) this.#emit(e);
    if (next.linkUp !== this.#adminLink) next.setLinkUp(this.#adminLink);
    if (options.reason !== undefined) this.events.emit('warning', `${this.id}: switched from "${old.backend}" to "${next.backend}": ${options.reason}`);
    const offOld = old.events.on('warning', (m) => this.events.emit('warning', m));
    try {
      await old.close();
    } catch (err) {
      this.events.emit('warning', `${this.id}: closing the old "${old.backend}" device after the switch failed: ${errorMessage(err)}`);
    } finally {
      offOld();
    }
    this.#policy?.evaluate();
    return { from: old.backend, to: next.backend, activated: running, quiescedAt, savedAt, startedAt, switches: this.#switches };
  }

  /** Subscribes `sink` to every event of `device`; returns the unsubscribe function. */
  #forward(device: VirtioNetDevice, sink: (e: Pending) => void): () => void {
    const offs = EVENTS.map((name) => device.events.on(name, (...args: never[]) => sink([name, args] as unknown as Pending)));
    return () => {
      for (const off of offs) off();
    };
  }

  #emit(e: Pending): void {
    (this.events.emit as (name: string, ...args: unknown[]) => void)(e[0], ...e[1]);
    if (e[0] === 'link' || e[0] === 'warning') this.#policy?.evaluate();
  }
}

function targetName(entry: unknown): string {
  const b = typeof entry === 'object' && entry !== null ? (entry as { backend?: unknown }).backend : undefined;
  return typeof b === 'string' ? b : '(no backend named)';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
