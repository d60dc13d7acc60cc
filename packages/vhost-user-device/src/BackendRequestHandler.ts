import {
  checkNetFeatures,
  featureBit,
  hasFeature,
  packedVringBase,
  packedWraps,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  type QueueContext,
  type QueueState,
  type QueueStats,
} from '@vnic/core';
import { closeFd, EventFd, fdKind, isEventFd, setNonBlocking } from '@vnic/sys';
import { VIRTIO_NET_F_CTRL_VQ } from '@vnic/core/virtio_net';
import {
  decodeLog,
  decodeMemoryTable,
  decodeU64,
  decodeVringAddr,
  decodeVringState,
  decodeConfigSpace,
  encodeConfigSpace,
  encodeU64,
  encodeVringState,
  FrontendReq,
  VHOST_F_LOG_ALL,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_VRING_IDX_MASK,
  VHOST_USER_VRING_NOFD_MASK,
} from '@vnic/vhost-user-protocol';
import { SharedNetState, SharedQueueCounters } from '@vnic/virtio-net';
import { DataPlaneThreads } from './DataPlaneThreads.ts';
import { FrontendLog } from './FrontendLog.ts';
import { LogSampler } from './LogSampler.ts';
import { FrontendMemory } from './FrontendMemory.ts';
import { checkLogCovers } from './checkLogCovers.ts';
import { ringAddresses } from './ringAddresses.ts';
import { resumePoint } from './resumePoint.ts';
import type { SessionContext } from './SessionContext.ts';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';
import { ServerControlQueue } from './ServerControlQueue.ts';
import { VringTable, type Vring } from './VringTable.ts';
import {
  VHOST_USER_DEVICE_STATE_FORMAT,
  VHOST_USER_DEVICE_STATE_VERSION,
  type VhostUserDeviceQueueState,
  type VhostUserDeviceState,
} from './VhostUserDeviceState.ts';

/** Largest split ring the data plane takes (virtio 1.2 §2.7: Queue Size at most 32768). */
const MAX_RING = 32768;
const LOG_ALL = 1n << BigInt(VHOST_F_LOG_ALL);

/**
 * The vhost-user backend state machine of one connection, one request at a time (rust-vmm's
 * VhostUserHandler): features, protocol features, owner, the memory table, the vrings
 * (VringTable) and the queue-pair IO threads that serve them (DataPlaneThreads), started when a
 * pair's rings are ready and enabled and stopped before anything they use changes. Every request
 * is checked before it changes anything; a wrong one throws a VhostUserDeviceError naming the
 * request and the expected shape. It never touches the socket: BackendSession reads the
 * messages, checks their framing and sends the replies. close() stops every thread, unmaps the
 * memory and closes every fd the frontend sent.
 */
export class BackendRequestHandler {
  private readonly ctx: SessionContext;
  private readonly table: VringTable;
  private readonly rings: Vring[];
  private readonly threads: DataPlaneThreads;
  private readonly counters: SharedQueueCounters;
  private readonly netState = new SharedNetState();
  /** Whole-device mode: the control queue this connection serves (vring 2N). */
  private readonly ctrl: ServerControlQueue | undefined;
  /** eventfds vnic made for rings whose call came with NOFD (the frontend polls the used ring). */
  private readonly ownCalls = new Map<number, EventFd>();
  private mem: FrontendMemory | undefined;
  /** The backend-request socket of SET_BACKEND_REQ_FD (whole-device mode; kept for config-change messages, closed with the connection). */
  private backendReq: number | undefined;
  /** The dirty log of SET_LOG_BASE (PROTOCOL_F_LOG_SHMFD); the IO threads mark into it while VHOST_F_LOG_ALL is acked. */
  private log: FrontendLog | undefined;
  /** Counts the pages marked while logging (for the 'dirty-log' event when logging ends). */
  private sampler: LogSampler | undefined;
  /** Pages counted by earlier samplers of this logging period (a new SET_LOG_BASE replaces the log). */
  private sampled = 0;
  /** Bits the IO threads turned from 0 to 1 in this logging period's logs (exact: only they set bits, the frontend clears them). */
  private readonly setBits = new Uint32Array(new SharedArrayBuffer(4));
  private features: bigint | undefined;
  private protocolFeatures = 0n;
  /** Saved rings not started yet since the take-over (resume: the state this connection takes over). */
  private readonly pending = new Map<number, VhostUserDeviceQueueState>();
  private readonly resume: VhostUserDeviceState | undefined;
  /** saveState() ran: no IO thread starts again on this connection. */
  private frozen = false;

  /** `resume`: a saved state whose rings this connection resumes (the first connection after a take-over). */
  constructor(ctx: SessionContext, resume?: VhostUserDeviceState) {
    this.ctx = ctx;
    this.table = new VringTable(2 * ctx.queuePairs + (ctx.controlQueue ? 1 : 0));
    this.ctrl = ctx.controlQueue ? new ServerControlQueue(ctx) : undefined;
    this.rings = this.table.rings;
    this.counters = new SharedQueueCounters(2 * ctx.queuePairs);
    this.threads = new DataPlaneThreads(ctx, this.counters, this.netState, {
      ready: (index) => this.ready(index),
      queueContext: (index, at) => this.queueContext(index, at),
      memory: () => this.mem!.layout,
      features: () => this.features! & ~LOG_ALL, // logging is the log handed over below, not a ring feature
      setBase: (index, state) => {
        const r = this.rings[index]!;
        r.base = this.packed ? packedVringBase.encode(state) : state.nextAvail;
        r.rxBacklog = state.rxBacklog; // delivered first when the ring runs again
      },
    });
    this.resume = resume;
    for (const q of resume?.queues ?? []) {
      if (q.index >= this.rings.length) continue; // refused by the server before it gets here
      this.pending.set(q.index, q);
      this.counters.publish(q.index, { txWaits: 0, ...q.counters }); // the IO threads count on from here
    }
  }

  /** True once the frontend acked PROTOCOL_F_REPLY_ACK: a request with NEED_REPLY gets a u64 status. */
  get replyAck(): boolean {
    return (this.protocolFeatures & (1n << BigInt(VHOST_USER_PROTOCOL_F_REPLY_ACK))) !== 0n;
  }

  /** True while the IO threads mark their writes: VHOST_F_LOG_ALL acked and a log mapped. */
  get logging(): boolean {
    return this.features !== undefined && (this.features & LOG_ALL) !== 0n && this.log !== undefined;
  }

  /** VIRTIO_F_RING_PACKED acked: ring bases are packed VRING_BASEs (positions and wrap counters, vhost-user.rst). */
  private get packed(): boolean {
    return this.features !== undefined && hasFeature(this.features, VIRTIO_F_RING_PACKED);
  }

  /** Where ring `r` resumes, from its base (packed: decoded; split: the avail index, used->idx `nextUsed`). */
  private baseState(r: Vring, nextUsed: number): QueueState {
    return this.packed ? packedVringBase.read(r.base) : { nextAvail: r.base, nextUsed };
  }

  /** True once SET_FEATURES arrived. */
  get negotiated(): boolean {
    return this.features !== undefined;
  }

  /** Per-queue counters of this connection's data plane (index order: rx0, tx0, rx1, ...). */
  /** The server published new coalescing parameters: the running IO threads apply them now. */
  coalescingChanged(): void {
    this.threads.coalescingChanged();
  }

  stats(): QueueStats[] {
    return this.rings.map((_, index) => ({ index, ...this.counters.read(index), ...this.ctx.rateLimit.counters(index) }));
  }

  /**
   * Quiesces the data plane (every IO thread stopped at a consistent point, no chain half-done;
   * none starts again on this connection) and returns the device state: features, and per vring
   * the frontend set up its size, addresses, where it resumes and its counters. Throws a
   * VhostUserDeviceError `invalid-state` before SET_FEATURES (there is nothing to save).
   */
  async saveState(where: { readonly socket: string; readonly tap: string }): Promise<VhostUserDeviceState> {
    if (this.features === undefined)
      throw new VhostUserDeviceError(
        'invalid-state',
        `${this.ctx.where}: no device state to save: the frontend has not negotiated features yet (SET_FEATURES)`,
      );
    this.frozen = true;
    await this.stopAll();
    const queues: VhostUserDeviceQueueState[] = [];
    this.rings.forEach((r, index) => {
      if (r.num === undefined || r.addr === undefined) return;
      const pending = this.pending.get(index); // set up again but never started since the take-over: the saved point stands
      // Where the ring resumes: the saved point of a pending ring, else the stopped ring's base (packed:
      // positions and wrap counters; split: the avail index, and used->idx read from guest memory).
      let at: QueueState =
        pending !== undefined ? { nextAvail: pending.nextAvail, nextUsed: pending.nextUsed, ...packedWraps(pending) } : { nextAvail: r.base, nextUsed: r.base };
      if (pending === undefined && this.packed) at = this.baseState(r, 0);
      else if (pending === undefined && this.mem !== undefined) {
        const used = ringAddresses(index, r, this.mem, this.features, `${this.ctx.where}: saving vring ${index}`).usedRing;
        const b = this.mem.memory.read(used + 2, 2)!;
        at = { nextAvail: r.base, nextUsed: b[0]! | (b[1]! << 8) };
      }
      queues.push({
        index,
        size: r.num,
        enabled: r.enabled,
        descUserAddr: hex(r.addr.descUserAddr),
        availUserAddr: hex(r.addr.availUserAddr),
        usedUserAddr: hex(r.addr.usedUserAddr),
        nextAvail: at.nextAvail,
        nextUsed: at.nextUsed,
        ...packedWraps(at),
        counters: this.counters.read(index),
      });
    });
    return {
      format: VHOST_USER_DEVICE_STATE_FORMAT,
      version: VHOST_USER_DEVICE_STATE_VERSION,
      savedAt: new Date().toISOString(),
      socket: where.socket,
      tap: where.tap,
      queuePairs: this.ctx.queuePairs,
      offered: hex(this.ctx.features),
      features: hex(this.features),
      protocolFeatures: hex(this.protocolFeatures),
      queues,
    };
  }

  /** Stops the IO threads, unmaps the memory, closes every fd the frontend sent. */
  async close(): Promise<void> {
    await this.stopAll();
    await this.ctrl?.close();
    if (this.logging) {
      this.features = this.features! & ~LOG_ALL; // the connection ends while logging: report what was marked
      this.ctx.events.emit('dirty-log', { logging: false, bytes: this.log!.size, ...this.pagesMarked() });
    }
    this.mem?.close();
    this.mem = undefined;
    this.dropLog();
    for (const r of this.rings) this.dropFds(r);
    for (const e of this.ownCalls.values()) e.close();
    this.ownCalls.clear();
    if (this.backendReq !== undefined) closeFd(this.backendReq);
    this.backendReq = undefined;
  }

  /** Handles one request; returns the reply payload of requests that have one. Owns `fds`. */
  async handle(request: FrontendReq, payload: Uint8Array, fds: number[], at: string): Promise<Uint8Array | undefined> {
    switch (request) {
      case FrontendReq.GET_FEATURES:
        expectEmpty(payload, at);
        return encodeU64(this.ctx.features);
      case FrontendReq.SET_FEATURES: {
        const f = decodeU64(payload);
        const extra = f & ~this.ctx.features;
        if (extra !== 0n)
          throw new VhostUserDeviceError(
            'protocol',
            `${at}: features 0x${f.toString(16)} include 0x${extra.toString(16)}, which GET_FEATURES (0x${this.ctx.features.toString(16)}) did not offer`,
          );
        if (!hasFeature(f, VIRTIO_F_VERSION_1)) {
          throw new VhostUserDeviceError(
            'protocol',
            `${at}: features 0x${f.toString(16)} lack VIRTIO_F_VERSION_1; vnic's data plane serves virtio 1.x rings (12-byte virtio_net_hdr) only`,
          );
        }
        // The frontend serves the control queue (the backend never offers CTRL_VQ): rules whose
        // requirement is CTRL_VQ hold on its side; every other §5.1.3.1 dependency is checked here.
        const broken = checkNetFeatures(f | featureBit(VIRTIO_NET_F_CTRL_VQ));
        if (broken !== undefined)
          throw new VhostUserDeviceError('protocol', `${at}: features 0x${f.toString(16)} break a virtio-net feature dependency: ${broken}`);
        if (this.resume !== undefined && this.pending.size > 0 && f !== BigInt(this.resume.features)) {
          this.ctx.events.emit(
            'warning',
            `${at}: features 0x${f.toString(16)} differ from the saved state's 0x${BigInt(this.resume.features).toString(16)}: another frontend (or a reset one); its rings start where it says, not where the state says`,
          );
          this.pending.clear();
        }
        if (this.features !== undefined && (f ^ this.features) === LOG_ALL) {
          // Only VHOST_F_LOG_ALL changed (a migration starts or ends): the IO threads switch logs as they run.
          await this.setLogAll(f);
        } else if (f !== this.features) {
          await this.stopAll(); // the rings' layout and the header handling depend on the features
          await this.setLogAll(f);
          this.ctrl?.reset(f);
          this.ctx.setTapOffloads(f);
          this.ctx.events.emit('negotiated', { features: f, protocolFeatures: this.protocolFeatures });
        }
        await this.reconcile();
        return undefined;
      }
      case FrontendReq.GET_PROTOCOL_FEATURES:
        expectEmpty(payload, at);
        return encodeU64(this.ctx.protocolFeatures);
      case FrontendReq.SET_PROTOCOL_FEATURES: {
        const p = decodeU64(payload);
        const extra = p & ~this.ctx.protocolFeatures;
        if (extra !== 0n)
          throw new VhostUserDeviceError(
            'protocol',
            `${at}: protocol features 0x${p.toString(16)} include 0x${extra.toString(16)}, which were not offered (0x${this.ctx.protocolFeatures.toString(16)})`,
          );
        this.protocolFeatures = p;
        return undefined;
      }
      case FrontendReq.GET_QUEUE_NUM:
        expectEmpty(payload, at);
        return encodeU64(BigInt(this.ctx.queuePairs));
      case FrontendReq.SET_OWNER:
        expectEmpty(payload, at);
        return undefined;
      case FrontendReq.RESET_OWNER:
        expectEmpty(payload, at);
        await this.stopAll();
        for (const r of this.rings) r.started = false;
        return undefined;
      case FrontendReq.SET_MEM_TABLE:
        await this.setMemTable(payload, fds, at);
        return undefined;
      case FrontendReq.SET_LOG_BASE:
        await this.setLogBase(payload, fds, at);
        return encodeU64(0n); // the reply QEMU and DPDK wait for with LOG_SHMFD (vhost-user.rst "Communication")
      case FrontendReq.SET_VRING_NUM: {
        const { index, num } = decodeVringState(payload);
        const r = this.ring(index, at);
        if (num < 1 || num > MAX_RING || (num & (num - 1)) !== 0)
          throw new VhostUserDeviceError('protocol', `${at}: vring ${index} size ${num} is not a power of two in 1..${MAX_RING}`);
        await this.stopPairOf(index);
        r.num = num;
        await this.reconcile();
        return undefined;
      }
      case FrontendReq.SET_VRING_BASE: {
        const { index, num } = decodeVringState(payload);
        const r = this.ring(index, at);
        if (num > 0xffff && !this.packed)
          throw new VhostUserDeviceError('protocol', `${at}: vring ${index} base ${num} does not fit a split ring's u16 avail index`);
        if (this.packed && ((num & 0x7fff) >= (r.num ?? MAX_RING) || ((num >>> 16) & 0x7fff) >= (r.num ?? MAX_RING)))
          throw new VhostUserDeviceError(
            'protocol',
            `${at}: vring ${index} packed base 0x${num.toString(16)} has a position beyond the ring size ${r.num ?? MAX_RING}`,
          );
        await this.stopPairOf(index);
        r.base = num;
        await this.reconcile();
        return undefined;
      }
      case FrontendReq.SET_VRING_ADDR: {
        const { index, addr } = decodeVringAddr(payload);
        const r = this.ring(index, at);
        await this.stopPairOf(index);
        r.addr = addr;
        if (this.mem !== undefined && r.num !== undefined) {
          const parts = ringAddresses(index, r, this.mem, this.features, at); // a clear error now rather than at start
          checkLogCovers(index, r, parts.usedRing, this.log, at, this.features);
        }
        await this.reconcile();
        return undefined;
      }
      case FrontendReq.GET_VRING_BASE: {
        const { index } = decodeVringState(payload);
        const r = this.ring(index, at);
        await this.stopPairOf(index);
        r.started = false; // stopped until the next SET_VRING_KICK
        const base = r.base;
        await this.reconcile(); // the other ring of the pair may go on alone
        this.ctx.events.emit('ring-stopped', { index, nextAvail: base });
        return encodeVringState({ index, num: base });
      }
      case FrontendReq.SET_VRING_KICK:
      case FrontendReq.SET_VRING_CALL:
      case FrontendReq.SET_VRING_ERR:
        await this.setVringFd(request, payload, fds, at);
        return undefined;
      case FrontendReq.SET_VRING_ENABLE: {
        const { index, num } = decodeVringState(payload);
        const r = this.ring(index, at);
        if (num > 1) throw new VhostUserDeviceError('protocol', `${at}: vring ${index} enable value ${num}; expected 0 or 1`);
        if (r.enabled !== (num === 1)) {
          await this.stopPairOf(index);
          r.enabled = num === 1;
          await this.reconcile();
        }
        return undefined;
      }
      case FrontendReq.GET_CONFIG:
        return this.getConfig(payload, at);
      case FrontendReq.SET_BACKEND_REQ_FD: {
        if ((this.protocolFeatures & (1n << BigInt(VHOST_USER_PROTOCOL_F_BACKEND_REQ))) === 0n || fds.length !== 1) {
          for (const fd of fds) closeFd(fd);
          throw new VhostUserDeviceError(
            'protocol',
            `${at}: needs protocol feature BACKEND_REQ acked (0x${this.protocolFeatures.toString(16)}) and exactly one fd (${fds.length} attached)`,
          );
        }
        if (this.backendReq !== undefined) closeFd(this.backendReq);
        this.backendReq = fds[0];
        return undefined;
      }
      case FrontendReq.SET_CONFIG:
        this.configAcked(at);
        decodeConfigSpace(payload); // checked; virtio-net config space is read-only for a VERSION_1 driver (§5.1.4.2): ignored
        return undefined;
      default:
        throw new VhostUserDeviceError(
          'protocol',
          `${at}: not supported by vnic's vhost-user device (it offers protocol features 0x${this.ctx.protocolFeatures.toString(16)}: MQ, LOG_SHMFD, REPLY_ACK${this.ctx.controlQueue ? ', CONFIG, BACKEND_REQ' : ''})`,
        );
    }
  }

  /** PROTOCOL_F_CONFIG must have been acked (whole-device mode offers it). */
  private configAcked(at: string): void {
    if ((this.protocolFeatures & (1n << BigInt(VHOST_USER_PROTOCOL_F_CONFIG))) === 0n)
      throw new VhostUserDeviceError(
        'protocol',
        `${at}: protocol feature CONFIG was not ${this.ctx.controlQueue ? 'acked' : 'offered (start the device with controlQueue / --ctrl-vq to serve config space)'}`,
      );
  }

  /**
   * GET_CONFIG: the asked range of the device's virtio_net_config, bytes past its end read 0
   * (vhost-user.rst: the reply has the request's offset and size); at most 256 bytes.
   */
  private getConfig(payload: Uint8Array, at: string): Uint8Array {
    this.configAcked(at);
    const req = decodeConfigSpace(payload);
    const size = req.payload.length;
    if (req.offset > 256 || req.offset + size > 256)
      throw new VhostUserDeviceError('protocol', `${at}: config range ${req.offset}+${size} lies outside the 256 bytes of config space`);
    const out = new Uint8Array(size);
    out.set(this.ctx.config.subarray(Math.min(req.offset, this.ctx.config.length), Math.min(req.offset + size, this.ctx.config.length)));
    return encodeConfigSpace({ offset: req.offset, flags: req.flags, payload: out });
  }

  private async setMemTable(payload: Uint8Array, fds: number[], at: string): Promise<void> {
    let regions;
    try {
      regions = decodeMemoryTable(payload);
    } catch (e) {
      for (const fd of fds) closeFd(fd);
      throw e;
    }
    if (this.mem !== undefined && this.mem.sameAs(regions, fds)) {
      for (const fd of fds) closeFd(fd); // QEMU sends the same table once per queue pair
      return;
    }
    const next = FrontendMemory.map(regions, fds, at, { allowUnsealedMemory: this.ctx.allowUnsealedMemory }); // closes the fds; throws before anything changes
    if (this.log !== undefined && next.end > this.log.covers) {
      next.close();
      throw new VhostUserDeviceError(
        'memory',
        `${at} rejected: the memory table reaches 0x${next.end.toString(16)} but the dirty log (${this.log.size} bytes) covers addresses below 0x${this.log.covers.toString(16)}: send a larger SET_LOG_BASE first`,
      );
    }
    await this.stopAll();
    this.mem?.close();
    this.mem = next;
    this.ctx.events.emit('memory', { regions: next.layout.regions.map((r) => ({ guestPhysAddr: r.guestPhysAddr, size: r.size })) });
    await this.reconcile();
  }

  /**
   * SET_LOG_BASE: only with PROTOCOL_F_LOG_SHMFD (the log comes as one fd plus a log description);
   * the log must cover the memory table and every ring's used ring that logs. The IO threads stop,
   * the old log is unmapped, and they start again marking into the new one while LOG_ALL is on.
   */
  private async setLogBase(payload: Uint8Array, fds: number[], at: string): Promise<void> {
    let log;
    try {
      if ((this.protocolFeatures & (1n << BigInt(VHOST_USER_PROTOCOL_F_LOG_SHMFD))) === 0n)
        throw new VhostUserDeviceError(
          'protocol',
          `${at}: protocol feature LOG_SHMFD was not acked (SET_PROTOCOL_FEATURES 0x${this.protocolFeatures.toString(16)}): vnic takes the dirty log as shared memory only`,
        );
      if (fds.length !== 1) throw new VhostUserDeviceError('protocol', `${at}: ${fds.length} fd(s) attached; expected exactly one (the log memory)`);
      log = decodeLog(payload);
    } catch (e) {
      for (const fd of fds) closeFd(fd);
      throw e;
    }
    const next = FrontendLog.map(log, fds[0]!, at, { memoryEnd: this.mem?.end ?? 0, allowUnsealed: this.ctx.allowUnsealedMemory }); // closes the fd
    try {
      if (this.mem !== undefined) {
        this.rings.forEach((r, index) => {
          if (r.num === undefined || r.addr === undefined) return;
          checkLogCovers(index, r, ringAddresses(index, r, this.mem!, this.features, at).usedRing, next, at, this.features);
        });
      }
    } catch (e) {
      next.close();
      throw e;
    }
    const old = this.log;
    this.log = next;
    await this.threads.setDirtyLog(this.logging ? next : undefined, this.setBits); // the running threads mark into the new log from here on
    this.stopSampling();
    old?.close();
    if (this.logging) this.sampler = new LogSampler(next);
    this.ctx.events.emit('dirty-log', { logging: this.logging, bytes: next.size });
  }

  /**
   * Takes the features' VHOST_F_LOG_ALL into account: on (with a log mapped), the IO threads mark
   * their writes; off, they stop and the log is unmapped (a new SET_LOG_BASE starts the next).
   * LOG_ALL before any SET_LOG_BASE is QEMU's order when a device starts while logging: it logs
   * once the log arrives.
   */
  private async setLogAll(f: bigint): Promise<void> {
    const was = this.logging;
    this.features = f;
    if ((f & LOG_ALL) === 0n) {
      await this.threads.setDirtyLog(undefined);
      this.dropLog();
    } else await this.threads.setDirtyLog(this.logging ? this.log : undefined, this.setBits);
    if (this.logging && this.sampler === undefined) this.sampler = new LogSampler(this.log!);
    if (was !== this.logging)
      this.ctx.events.emit('dirty-log', { logging: this.logging, ...(this.log === undefined ? {} : { bytes: this.log.size }), ...this.pagesMarked() });
  }

  /** Stops the sampler (before its log is unmapped), keeping its count for this logging period. */
  private stopSampling(): void {
    this.sampled += this.sampler?.stop() ?? 0;
    this.sampler = undefined;
  }

  /**
   * When logging has ended (the IO threads no longer mark): `{ pages }`, the distinct pages seen
   * marked during it (a lower bound, see LogSampler), and `{ setBits }`, the exact number of page
   * marks that reached the frontend; then both counts restart.
   */
  private pagesMarked(): { pages?: number; setBits?: number } {
    if (this.logging) return {};
    this.stopSampling();
    const pages = this.sampled;
    this.sampled = 0;
    return { pages, setBits: Atomics.exchange(this.setBits, 0, 0) };
  }

  private dropLog(): void {
    this.stopSampling();
    this.log?.close();
    this.log = undefined;
  }

  private async setVringFd(request: FrontendReq, payload: Uint8Array, fds: number[], at: string): Promise<void> {
    let u: bigint;
    try {
      u = decodeU64(payload);
    } catch (e) {
      for (const fd of fds) closeFd(fd);
      throw e;
    }
    const index = Number(u & BigInt(VHOST_USER_VRING_IDX_MASK));
    const nofd = (u & BigInt(VHOST_USER_VRING_NOFD_MASK)) !== 0n;
    const rest = u & ~BigInt(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK);
    const expectFds = nofd ? 0 : 1;
    if (rest !== 0n || fds.length !== expectFds) {
      for (const fd of fds) closeFd(fd);
      throw new VhostUserDeviceError(
        'protocol',
        `${at}: u64 0x${u.toString(16)} with ${fds.length} fd(s); expected the vring index in bits 0-7, bit 8 (NOFD) ${nofd ? 'set and no fd' : 'clear and exactly one eventfd'}, other bits 0`,
      );
    }
    const fd = fds[0];
    let r: Vring;
    try {
      r = this.ring(index, at);
      if (request === FrontendReq.SET_VRING_KICK && fd === undefined) {
        throw new VhostUserDeviceError(
          'protocol',
          `${at}: vring ${index} without a kick fd (NOFD): vnic's IO threads wait on an eventfd and do not poll rings`,
        );
      }
    } catch (e) {
      if (fd !== undefined) closeFd(fd);
      throw e;
    }
    if (fd !== undefined) {
      // Only an eventfd may be read and written by an IO thread: a pipe, a socket or a file could
      // block it or end its stream. O_NONBLOCK so that no read or write on it ever blocks (two
      // rings sharing one eventfd, a counter at its maximum). One exception, in whole-device mode
      // only: a call fd may be a unix socket, as user-mode Linux's virtio_uml sends (os_pipe is a
      // socketpair there: eventfds lack SIGIO). The IO threads only write 8 bytes to it, which a
      // non-blocking stream socket takes whole or refuses (EAGAIN: a wake-up is pending anyway).
      try {
        const socketCall = request === FrontendReq.SET_VRING_CALL && this.ctx.controlQueue && fdKind(fd)?.startsWith('socket:') === true;
        if (!isEventFd(fd) && !socketCall) {
          throw new VhostUserDeviceError(
            'protocol',
            `${at}: vring ${index}: the fd is ${fdKind(fd) ?? 'not open'}, not an eventfd; vnic waits on and signals eventfds only`,
          );
        }
        setNonBlocking(fd, true);
      } catch (e) {
        closeFd(fd);
        throw e;
      }
    }
    if (request === FrontendReq.SET_VRING_ERR) {
      if (fd !== undefined) closeFd(fd); // vnic never reports ring errors through it
      return;
    }
    await this.stopPairOf(index); // before the old fd closes: the thread waits on it
    if (request === FrontendReq.SET_VRING_KICK) {
      if (r.kick !== undefined) closeFd(r.kick);
      r.kick = fd;
      r.started = true;
    } else {
      if (r.call !== undefined) closeFd(r.call);
      r.call = fd;
      if (fd === undefined) {
        // NOFD: the frontend polls the used ring; calls go to an eventfd nobody reads.
        let own = this.ownCalls.get(index);
        if (own === undefined) {
          own = EventFd.create({ nonBlocking: true });
          this.ownCalls.set(index, own);
        }
      }
    }
    await this.reconcile();
  }

  private ring(index: number, at: string): Vring {
    return this.table.ring(index, at, this.ctx.queuePairs);
  }

  private ready(index: number): boolean {
    const r = this.rings[index]!;
    r.ownCall = r.call === undefined && this.ownCalls.has(index);
    return this.table.ready(index, this.mem !== undefined, this.features);
  }

  /** The QueueContext of a ready ring `index` (addresses translated, used idx read from memory); throws when a ring lies outside the memory. */
  private queueContext(index: number, at: string): QueueContext {
    const r = this.rings[index]!;
    const { descTable, availRing, usedRing } = ringAddresses(index, this.rings[index]!, this.mem!, this.features, at);
    const u = this.packed ? undefined : this.mem!.memory.read(usedRing + 2, 2)!;
    const nextUsed = u === undefined ? 0 : u[0]! | (u[1]! << 8);
    const saved = this.pending.get(index);
    if (saved !== undefined && this.packed) {
      // A packed ring taken over: the frontend's SET_VRING_BASE carries both sides and stands.
      this.pending.delete(index);
      this.ctx.events.emit('resumed', {
        index,
        nextAvail: r.base & 0x7fff,
        nextUsed: (r.base >>> 16) & 0x7fff,
        from: 'frontend',
        why: 'a packed ring resumes from the base its frontend sent',
      });
    } else if (saved !== undefined) {
      this.pending.delete(index);
      const p = resumePoint(saved, r, nextUsed);
      r.base = p.nextAvail;
      this.ctx.events.emit('resumed', { index, nextAvail: p.nextAvail, nextUsed, from: p.from, why: p.why });
    }
    const callFd = r.call ?? this.ownCalls.get(index)?.fd;
    if (r.kick === undefined || callFd === undefined)
      throw new VhostUserDeviceError('invalid-state', `${at}: vring ${index} started without its kick and call fds`);
    const backlog = r.rxBacklog;
    r.rxBacklog = undefined;
    return {
      index,
      size: r.num!,
      descTable,
      availRing,
      usedRing,
      kickFd: r.kick,
      callFd,
      state: backlog === undefined ? this.baseState(r, nextUsed) : { ...this.baseState(r, nextUsed), rxBacklog: backlog },
    };
  }

  private async reconcile(): Promise<void> {
    if (this.frozen) return;
    await this.threads.reconcile();
    const ctrl = this.ctrl;
    if (ctrl === undefined || ctrl.running || !this.ready(ctrl.index)) return;
    if (!hasFeature(this.features!, VIRTIO_NET_F_CTRL_VQ)) return; // not negotiated: the vring is not a control queue
    const at = `${this.ctx.where}: control queue (vring ${ctrl.index})`;
    ctrl.start(this.queueContext(ctrl.index, at), this.features! & ~LOG_ALL, this.mem!.memory);
  }

  private async stopPairOf(index: number): Promise<void> {
    if (index === this.ctrl?.index) this.stopCtrl();
    else await this.threads.stopPairOf(index);
  }

  private async stopAll(): Promise<void> {
    this.stopCtrl();
    await this.threads.stopAll();
  }

  /** Stops the control queue; its ring resumes where it stopped. */
  private stopCtrl(): void {
    const ctrl = this.ctrl;
    const s = ctrl?.stop();
    if (ctrl === undefined || s === undefined) return;
    this.rings[ctrl.index]!.base = this.packed ? packedVringBase.encode(s) : s.nextAvail;
  }

  private dropFds(r: Vring): void {
    if (r.kick !== undefined) closeFd(r.kick);
    if (r.call !== undefined) closeFd(r.call);
    r.kick = undefined;
    r.call = undefined;
  }
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

function expectEmpty(payload: Uint8Array, at: string): void {
  // QEMU sends GET_* requests with an empty payload; rust-vmm and DPDK accept a zero u64 too.
  if (payload.length !== 0 && payload.length !== 8) throw new VhostUserDeviceError('protocol', `${at}: payload of ${payload.length} bytes; expected none`);
}
