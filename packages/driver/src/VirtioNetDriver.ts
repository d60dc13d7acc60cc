import {
  DriverQueue,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_VERSION_1,
  VIRTIO_MMIO_DEVICE_FEATURES,
  VIRTIO_MMIO_DEVICE_FEATURES_SEL,
  VIRTIO_MMIO_DRIVER_FEATURES,
  VIRTIO_MMIO_DRIVER_FEATURES_SEL,
  VIRTIO_MMIO_INTERRUPT_ACK,
  VIRTIO_MMIO_INTERRUPT_STATUS,
  VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
  VIRTIO_MMIO_QUEUE_AVAIL_LOW,
  VIRTIO_MMIO_QUEUE_DESC_HIGH,
  VIRTIO_MMIO_QUEUE_DESC_LOW,
  VIRTIO_MMIO_QUEUE_NOTIFY,
  VIRTIO_MMIO_QUEUE_NUM,
  VIRTIO_MMIO_QUEUE_NUM_MAX,
  VIRTIO_MMIO_QUEUE_READY,
  VIRTIO_MMIO_QUEUE_SEL,
  VIRTIO_MMIO_QUEUE_USED_HIGH,
  VIRTIO_MMIO_QUEUE_USED_LOW,
  VIRTIO_MMIO_STATUS,
  VirtioMmioTransport,
  decodeVirtioNetHdr,
  encodeNetCtrlCommand,
  encodeVirtioNetHdr,
  featureBit,
  hasFeature,
  virtio_net,
  type GuestMemory,
  type NetCtrlCommand,
  type VirtioNetConfig,
  type VirtioNetDevice,
  type VirtioNetHdr,
} from '@vnic/core';
import { Epoll, EPOLLIN, EventFd, MemfdGuestMemory } from '@vnic/sys';
import { DriverError } from './DriverError.ts';
import { GuestAllocator } from './GuestAllocator.ts';
import type { MalformedChain } from './MalformedChain.ts';
import type { MmioWindow } from './MmioWindow.ts';
import type { QueueEventFds } from './QueueEventFds.ts';
import type { ReceivedFrame } from './ReceivedFrame.ts';
import type { TxLayout } from './TxLayout.ts';
import type { VirtioNetDriverAttachOptions } from './VirtioNetDriverAttachOptions.ts';
import type { VirtioNetDriverTuning } from './VirtioNetDriverTuning.ts';
import { writeMalformedChain } from './writeMalformedChain.ts';
import { concatBytes } from './concatBytes.ts';
import { readMmioNetConfig } from './readMmioNetConfig.ts';
import { settleMmio } from './settleMmio.ts';
import { writeMmioAddr } from './writeMmioAddr.ts';

const N = virtio_net;
const { VIRTIO_NET_HDR_SIZE, VIRTIO_NET_OK } = virtio_net;

/** Every feature this driver implements; `features` in the options is intersected with it. */
export const DRIVER_FEATURES: bigint = [
  VIRTIO_F_VERSION_1,
  VIRTIO_F_EVENT_IDX,
  28, // VIRTIO_F_INDIRECT_DESC
  N.VIRTIO_NET_F_MAC,
  N.VIRTIO_NET_F_STATUS,
  N.VIRTIO_NET_F_MTU,
  N.VIRTIO_NET_F_MRG_RXBUF,
  N.VIRTIO_NET_F_CSUM,
  N.VIRTIO_NET_F_GUEST_CSUM,
  N.VIRTIO_NET_F_HOST_TSO4,
  N.VIRTIO_NET_F_HOST_TSO6,
  N.VIRTIO_NET_F_HOST_ECN,
  N.VIRTIO_NET_F_HOST_UFO,
  N.VIRTIO_NET_F_GUEST_TSO4,
  N.VIRTIO_NET_F_GUEST_TSO6,
  N.VIRTIO_NET_F_GUEST_ECN,
  N.VIRTIO_NET_F_GUEST_UFO,
  N.VIRTIO_NET_F_CTRL_VQ,
  N.VIRTIO_NET_F_CTRL_RX,
  N.VIRTIO_NET_F_CTRL_RX_EXTRA,
  N.VIRTIO_NET_F_CTRL_VLAN,
  N.VIRTIO_NET_F_CTRL_MAC_ADDR,
  N.VIRTIO_NET_F_GUEST_ANNOUNCE,
  N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  N.VIRTIO_NET_F_MQ,
].reduce((m, b) => m | featureBit(b), 0n);

/** Options of VirtioNetDriver.create: the device, and how to set it up. */
export interface VirtioNetDriverOptions extends VirtioNetDriverTuning {
  /** The device under test, driven through a VirtioMmioTransport the driver builds. */
  readonly device: VirtioNetDevice;
  /**
   * Where create() puts guest RAM (one memfd region at `guestPhysAddr` of `size` bytes, sparse)
   * and where in it the rings and buffers start (`ramBase`, default the region's base): e.g. a
   * region above 4 GiB, rings and buffers across a 1 GiB window edge. Default: a region at 0 of
   * guestMemoryBytes().
   */
  readonly placement?: { readonly guestPhysAddr: number; readonly size: number; readonly ramBase?: number };
}

/** Largest TX frame slot and RX buffer (a 64 KiB GSO frame plus the header). */
const TX_SLOT = 65_568;
const RX_MAX = 65_568;

interface DriverQueueState {
  readonly index: number;
  readonly q: DriverQueue;
  readonly kick: EventFd;
  readonly call: EventFd;
  readonly epoll: Epoll;
  /** Buffer (or slot) guest address per pool id. */
  readonly bufAddr: number[];
  readonly bufSize: number;
  /** Pool ids free for use. */
  readonly freeBufs: number[];
  /** Pool id by head descriptor index. */
  readonly bufOfHead: Map<number, number>;
}

/** What create() and attach() hand the shared set-up path. */
interface StartInit {
  readonly mmio: MmioWindow;
  readonly memory: GuestMemory;
  readonly ram: { readonly base: number; readonly size: number };
  readonly eventFds: (index: number) => QueueEventFds;
  readonly notify: 'eventfd' | 'mmio';
  readonly device: VirtioNetDevice | undefined;
  readonly name: string;
  readonly tuning: VirtioNetDriverTuning;
  readonly transport: VirtioMmioTransport | undefined;
  readonly guestMemory: MemfdGuestMemory | undefined;
  readonly interruptCounter: { n: number };
  /** Releases what the driver owns besides its epolls (create(): transport, eventfds, memory). */
  readonly release: () => void;
}

/**
 * A guest-side virtio-net driver in TypeScript. It initialises a device through its virtio-mmio
 * registers the way Linux virtio_net does (reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK,
 * queues, DRIVER_OK), posts RX buffers, sends frames with a virtio_net_hdr, receives frames
 * (reassembling MRG_RXBUF buffers), waits on call eventfds and issues control commands. It can
 * also post deliberately malformed chains.
 *
 * Two ways in: `create()` plays the VMM around the guest too (it owns memfd guest memory, the
 * kick/call eventfds and a VirtioMmioTransport over the device: tests, benchmarks, the demo);
 * `attach()` is only the guest kernel inside a VMM that owns all of those (examples/embed-in-vmm).
 */
export class VirtioNetDriver {
  /** The device being driven (undefined when attach() was not told). */
  readonly device: VirtioNetDevice | undefined;
  /** The MMIO window the driver reads and writes registers through. */
  readonly mmio: MmioWindow;
  /** The transport create() built (undefined after attach(): the VMM owns it). */
  readonly transport: VirtioMmioTransport | undefined;
  /** Guest RAM (memfd) create() allocated, shared with the device (undefined after attach()). */
  readonly guestMemory: MemfdGuestMemory | undefined;
  /** Zero-copy access to guest RAM. */
  readonly memory: GuestMemory;
  /** The device's name in messages (its id). */
  readonly name: string;
  /** Features negotiated. */
  readonly features: bigint;
  /** Queue pairs set up. */
  readonly queuePairs: number;
  /** Queue size used on every queue. */
  readonly queueSize: number;
  /** Index of the control queue, or undefined without VIRTIO_NET_F_CTRL_VQ. */
  readonly ctrlIndex: number | undefined;
  /** RX buffer size posted. */
  readonly rxBufferSize: number;

  private readonly queues = new Map<number, DriverQueueState>();
  private readonly alloc: GuestAllocator;
  private readonly txLayout: TxLayout;
  private readonly scratch: number;
  private readonly notifyVia: 'eventfd' | 'mmio';
  private readonly release: () => void;
  private readonly rxAny: Epoll;
  private rxCursor = 0;
  private closed = false;
  private readonly interruptCounter: { n: number };

  private constructor(init: {
    start: StartInit;
    features: bigint;
    queuePairs: number;
    queueSize: number;
    ctrlIndex: number | undefined;
    rxBufferSize: number;
    alloc: GuestAllocator;
    scratch: number;
    rxAny: Epoll;
  }) {
    const s = init.start;
    this.interruptCounter = s.interruptCounter;
    this.device = s.device;
    this.mmio = s.mmio;
    this.transport = s.transport;
    this.guestMemory = s.guestMemory;
    this.memory = s.memory;
    this.name = s.name;
    this.notifyVia = s.notify;
    this.release = s.release;
    this.txLayout = s.tuning.txLayout ?? 'single';
    this.features = init.features;
    this.queuePairs = init.queuePairs;
    this.queueSize = init.queueSize;
    this.ctrlIndex = init.ctrlIndex;
    this.rxBufferSize = init.rxBufferSize;
    this.alloc = init.alloc;
    this.scratch = init.scratch;
    this.rxAny = init.rxAny;
  }

  /** Number of config/needs-reset interrupts the transport raised (create() only; a VMM gets them after attach()). */
  get configInterrupts(): number {
    return this.interruptCounter.n;
  }

  /**
   * Guest RAM the driver needs for `queuePairs` pairs (plus the control queue) of `queueSize`
   * entries, worst case (64 KiB TX slots and RX buffers). memfd pages are only allocated when
   * touched, so a VMM can size a sparse region with it.
   */
  static guestMemoryBytes(options: { readonly queuePairs?: number; readonly queueSize?: number } = {}): number {
    const pairs = options.queuePairs ?? 1;
    const size = options.queueSize ?? 256;
    const perQueue = size * Math.max(TX_SLOT, RX_MAX) + 16 * size + 8 * size + 4096;
    return Math.ceil((perQueue * (2 * pairs + 1) + (1 << 20)) / 4096) * 4096;
  }

  /**
   * Allocates guest memory and eventfds, builds a VirtioMmioTransport over `device`, then
   * initialises it like attach(): negotiates features, sets the queues up, sets DRIVER_OK (which
   * activates the device), selects the queue pairs with the control queue (MQ) and posts RX
   * buffers. Everything is released again if any step fails.
   */
  static async create(options: VirtioNetDriverOptions): Promise<VirtioNetDriver> {
    const device = options.device;
    const pairsMax = device.queuePairs;
    const wantPairs = options.queuePairs ?? pairsMax;
    if (!Number.isInteger(wantPairs) || wantPairs < 1 || wantPairs > pairsMax) {
      throw new DriverError('invalid-argument', `queuePairs ${wantPairs} is outside 1..${pairsMax} (the device's maximum)`);
    }
    const size = options.queueSize ?? Math.min(256, device.queueMaxSize);
    if (size < 2 || size > device.queueMaxSize || (size & (size - 1)) !== 0) {
      throw new DriverError('invalid-argument', `queueSize ${size} must be a power of two between 2 and ${device.queueMaxSize}`);
    }
    // Guest RAM sized for the worst case; memfd pages are only allocated when touched.
    const memoryBytes = VirtioNetDriver.guestMemoryBytes({ queuePairs: wantPairs, queueSize: size });
    const place = options.placement ?? { guestPhysAddr: 0, size: memoryBytes };
    const ramBase = place.ramBase ?? place.guestPhysAddr;
    if (!(ramBase >= place.guestPhysAddr && ramBase < place.guestPhysAddr + place.size)) {
      throw new DriverError(
        'invalid-argument',
        `placement.ramBase 0x${ramBase.toString(16)} is outside the region 0x${place.guestPhysAddr.toString(16)}+0x${place.size.toString(16)}`,
      );
    }
    const ram = { base: ramBase, size: place.guestPhysAddr + place.size - ramBase };
    const guestMemory = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: place.guestPhysAddr, size: place.size }], name: `vnic-driver-${device.id}` });
    const fds = new Map<number, QueueEventFds>();
    const fdsOf = (i: number): QueueEventFds => {
      let f = fds.get(i);
      if (f === undefined) {
        const kick = EventFd.create({ nonBlocking: true });
        try {
          f = { kick, call: EventFd.create({ nonBlocking: true }) };
        } catch (err) {
          kick.close();
          throw err;
        }
        fds.set(i, f);
      }
      return f;
    };
    const interruptCounter = { n: 0 };
    let transport: VirtioMmioTransport | undefined;
    const release = (): void => {
      transport?.close();
      for (const f of fds.values()) {
        f.kick.close();
        f.call.close();
      }
      fds.clear();
      guestMemory.close();
    };
    try {
      transport = new VirtioMmioTransport(device, {
        memory: guestMemory.layout,
        queueEventFds: (i) => {
          const { kick, call } = fdsOf(i);
          return { kickFd: kick.fd, callFd: call.fd };
        },
        onQueueNotify: (i) => fdsOf(i).kick.write(1n),
        onInterrupt: () => {
          interruptCounter.n++;
        },
      });
      return await VirtioNetDriver.start({
        mmio: transport,
        memory: guestMemory.memory,
        ram,
        eventFds: fdsOf,
        notify: 'eventfd',
        device,
        name: device.id,
        tuning: { ...options, queuePairs: wantPairs, queueSize: size },
        transport,
        guestMemory,
        interruptCounter,
        release,
      });
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * Initialises the device behind `options.mmio` as the guest kernel of a VMM that owns guest
   * memory, the queue eventfds and the transport: the same sequence as create(), with rings and
   * buffers allocated in `options.ram`. If a step fails the device is reset and the driver's own
   * epolls are closed; nothing of the VMM's is touched.
   */
  static async attach(options: VirtioNetDriverAttachOptions): Promise<VirtioNetDriver> {
    const first = options.memory.regions[0];
    const ram = options.ram ?? (first === undefined ? undefined : { base: first.guestPhysAddr, size: first.size });
    if (ram === undefined || !options.memory.checkRange(ram.base, ram.size)) {
      throw new DriverError(
        'invalid-argument',
        `driver RAM ${ram === undefined ? '(none)' : `0x${ram.base.toString(16)}+0x${ram.size.toString(16)}`} is not inside one guest memory region`,
      );
    }
    return VirtioNetDriver.start({
      mmio: options.mmio,
      memory: options.memory,
      ram,
      eventFds: (i) => options.eventFds(i),
      notify: options.notify ?? 'eventfd',
      device: options.device,
      name: options.name ?? options.device?.id ?? 'virtio-net',
      tuning: options,
      transport: undefined,
      guestMemory: undefined,
      interruptCounter: { n: 0 },
      release: () => {},
    });
  }

  /** The set-up sequence shared by create() and attach(). */
  private static async start(init: StartInit): Promise<VirtioNetDriver> {
    const t = init.mmio;
    const name = init.name;
    const options = init.tuning;
    const epolls: Epoll[] = [];
    try {
      const status = (): number => t.read(VIRTIO_MMIO_STATUS, 4);
      const setStatus = (bits: number): void => t.write(VIRTIO_MMIO_STATUS, 4, status() | bits);

      t.write(VIRTIO_MMIO_STATUS, 4, 0);
      await settleMmio(t);
      setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
      setStatus(VIRTIO_CONFIG_S_DRIVER);
      t.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 0);
      const lo = t.read(VIRTIO_MMIO_DEVICE_FEATURES, 4) >>> 0;
      t.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 1);
      const hi = t.read(VIRTIO_MMIO_DEVICE_FEATURES, 4) >>> 0;
      const offered = (BigInt(hi) << 32n) | BigInt(lo);
      const cfg = readMmioNetConfig(t);
      const offeredPairs = hasFeature(offered, N.VIRTIO_NET_F_MQ) ? cfg.maxVirtqueuePairs : 1;
      const wantPairs = options.queuePairs ?? offeredPairs;
      if (!Number.isInteger(wantPairs) || wantPairs < 1 || wantPairs > offeredPairs) {
        throw new DriverError('invalid-argument', `queuePairs ${wantPairs} is outside 1..${offeredPairs} (the device's maximum)`);
      }
      t.write(VIRTIO_MMIO_QUEUE_SEL, 4, 0);
      const numMax = t.read(VIRTIO_MMIO_QUEUE_NUM_MAX, 4);
      const size = options.queueSize ?? Math.min(256, numMax);
      if (size < 2 || size > numMax || (size & (size - 1)) !== 0) {
        throw new DriverError('invalid-argument', `queueSize ${size} must be a power of two between 2 and ${numMax}`);
      }
      const features = offered & (options.features ?? DRIVER_FEATURES) & DRIVER_FEATURES;
      t.write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0);
      t.write(VIRTIO_MMIO_DRIVER_FEATURES, 4, Number(features & 0xffff_ffffn));
      t.write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
      t.write(VIRTIO_MMIO_DRIVER_FEATURES, 4, Number(features >> 32n));
      setStatus(VIRTIO_CONFIG_S_FEATURES_OK);
      if ((status() & VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
        setStatus(VIRTIO_CONFIG_S_FAILED);
        throw new DriverError('features-refused', `device ${name} refused features 0x${features.toString(16)} (offered 0x${offered.toString(16)})`);
      }
      const mq = hasFeature(features, N.VIRTIO_NET_F_MQ);
      const hasCtrl = hasFeature(features, N.VIRTIO_NET_F_CTRL_VQ);
      const maxPairs = mq ? cfg.maxVirtqueuePairs : 1;
      const pairs = Math.min(wantPairs, maxPairs);
      const ctrlIndex = hasCtrl ? 2 * maxPairs : undefined;
      const eventIdx = hasFeature(features, VIRTIO_F_EVENT_IDX);
      const mrg = hasFeature(features, N.VIRTIO_NET_F_MRG_RXBUF);
      const guestGso =
        hasFeature(features, N.VIRTIO_NET_F_GUEST_TSO4) || hasFeature(features, N.VIRTIO_NET_F_GUEST_TSO6) || hasFeature(features, N.VIRTIO_NET_F_GUEST_UFO);
      const rxBufferSize = mrg ? (options.rxBufferSize ?? 2048) : guestGso ? 65_562 : 1526;
      if (rxBufferSize < VIRTIO_NET_HDR_SIZE + 14 || rxBufferSize > RX_MAX) {
        throw new DriverError('invalid-argument', `rxBufferSize ${rxBufferSize} must be between ${VIRTIO_NET_HDR_SIZE + 14} and ${RX_MAX}`);
      }
      const alloc = new GuestAllocator(init.ram.base, init.ram.size);
      const scratch = alloc.alloc(64 * 1024, 4096);
      const mem = init.memory;
      const indices = [...Array(2 * pairs).keys()];
      if (ctrlIndex !== undefined) indices.push(ctrlIndex);
      const rxAny = Epoll.create();
      epolls.push(rxAny);
      const queues = new Map<number, DriverQueueState>();
      for (const index of indices) {
        t.write(VIRTIO_MMIO_QUEUE_SEL, 4, index);
        const max = t.read(VIRTIO_MMIO_QUEUE_NUM_MAX, 4);
        if (max === 0) throw new DriverError('device-failed', `device ${name} has no queue ${index}`);
        const qsize = Math.min(size, max);
        const layout = DriverQueue.layout(alloc.alloc(16 * qsize + 6 + 2 * qsize + 8 + 6 + 8 * qsize, 4096), qsize);
        const q = new DriverQueue({ size: qsize, descTable: layout.descTable, availRing: layout.availRing, usedRing: layout.usedRing, eventIdx });
        q.init(mem);
        t.write(VIRTIO_MMIO_QUEUE_NUM, 4, qsize);
        writeMmioAddr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, layout.descTable);
        writeMmioAddr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, layout.availRing);
        writeMmioAddr(t, VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_QUEUE_USED_HIGH, layout.usedRing);
        t.write(VIRTIO_MMIO_QUEUE_READY, 4, 1);
        const isRx = index !== ctrlIndex && index % 2 === 0;
        const bufSize = index === ctrlIndex ? 4096 : isRx ? rxBufferSize : TX_SLOT;
        const count = isRx ? Math.min(qsize, options.rxBuffers ?? qsize) : qsize;
        const base = alloc.alloc(bufSize * count, 4096);
        const bufAddr = [...Array(count).keys()].map((k) => base + k * bufSize);
        const { kick, call } = init.eventFds(index);
        const epoll = Epoll.create();
        epolls.push(epoll);
        epoll.add(call.fd, EPOLLIN, index);
        if (isRx) rxAny.add(call.fd, EPOLLIN, index);
        queues.set(index, {
          index,
          q,
          kick,
          call,
          epoll,
          bufAddr,
          bufSize,
          freeBufs: [...Array(count).keys()].reverse(),
          bufOfHead: new Map(),
        });
      }
      setStatus(VIRTIO_CONFIG_S_DRIVER_OK);
      await settleMmio(t);
      if ((status() & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) {
        throw new DriverError('device-failed', `device ${name} set DEVICE_NEEDS_RESET at DRIVER_OK`);
      }
      const driver = new VirtioNetDriver({ start: init, features, queuePairs: pairs, queueSize: size, ctrlIndex, rxBufferSize, alloc, scratch, rxAny });
      for (const [i, s] of queues) driver.queues.set(i, s);
      for (let p = 0; p < pairs; p++) driver.refillRx(p);
      if (mq && pairs > 1) {
        const ack = await driver.ctrl({ kind: 'mq-vq-pairs-set', pairs });
        if (ack !== VIRTIO_NET_OK) throw new DriverError('device-failed', `device ${name} refused VQ_PAIRS_SET ${pairs}`);
      }
      return driver;
    } catch (err) {
      try {
        t.write(VIRTIO_MMIO_STATUS, 4, 0);
        await settleMmio(t);
      } catch {
        // reporting the original error matters more
      }
      for (const e of epolls) e.close();
      throw err;
    }
  }

  /** The driver-side ring of queue `index` (for tests that need raw access). */
  queue(index: number): DriverQueue {
    return this.state(index).q;
  }

  /** Decoded device config space (read through the transport, as a guest does). */
  readConfig(): VirtioNetConfig {
    return readMmioNetConfig(this.mmio);
  }

  /** Reads and acknowledges the transport's interrupt status bits (1 = used buffer, 2 = config). */
  ackInterrupts(): number {
    const bits = this.mmio.read(VIRTIO_MMIO_INTERRUPT_STATUS, 4);
    if (bits !== 0) this.mmio.write(VIRTIO_MMIO_INTERRUPT_ACK, 4, bits);
    return bits;
  }

  /** Current device status register. */
  status(): number {
    return this.mmio.read(VIRTIO_MMIO_STATUS, 4);
  }

  /**
   * Queues one frame on transmit queue `queuePair` with a virtio_net_hdr (zeroes by default) and
   * kicks when the device asks for it. Reclaims finished TX buffers first. Returns false when the
   * ring is full.
   */
  send(frame: Uint8Array, options: { hdr?: Partial<VirtioNetHdr>; queuePair?: number; kick?: boolean } = {}): boolean {
    const s = this.state(2 * (options.queuePair ?? 0) + 1);
    this.reclaimTx(s);
    if (!this.postTx(s, frame, options.hdr)) return false;
    s.q.publish(this.memory);
    if (options.kick !== false) this.kickIfNeeded(s);
    return true;
  }

  /** Queues many frames, publishes once, kicks at most once. Returns how many were queued. */
  sendBatch(frames: readonly Uint8Array[], options: { hdr?: Partial<VirtioNetHdr>; queuePair?: number } = {}): number {
    const s = this.state(2 * (options.queuePair ?? 0) + 1);
    this.reclaimTx(s);
    let n = 0;
    for (const f of frames) {
      if (!this.postTx(s, f, options.hdr)) break;
      n++;
    }
    s.q.publish(this.memory);
    this.kickIfNeeded(s);
    return n;
  }

  /** Waits until every frame sent on `queuePair` was consumed by the device. */
  async flushTx(queuePair = 0, timeoutMs = 2000): Promise<void> {
    const s = this.state(2 * queuePair + 1);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.reclaimTx(s);
      if (s.bufOfHead.size === 0) return;
      if (!(await this.waitUsed(s, deadline))) {
        throw new DriverError('timeout', `device ${this.name}: ${s.bufOfHead.size} TX buffers on queue ${s.index} not used after ${timeoutMs} ms`);
      }
    }
  }

  /** Takes a received frame if one is ready (no waiting); reposts its buffers. */
  tryReceive(queuePair = 0): ReceivedFrame | undefined {
    const s = this.state(2 * queuePair);
    const mem = this.memory;
    const first = s.q.popUsed(mem);
    if (first === undefined) return undefined;
    const id0 = this.takeBuf(s, first.id);
    const head = mem.read(s.bufAddr[id0]!, Math.min(first.len, s.bufSize)) ?? new Uint8Array(0);
    const hdr = decodeVirtioNetHdr(head) ?? { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 1 };
    const mrg = hasFeature(this.features, N.VIRTIO_NET_F_MRG_RXBUF);
    const count = mrg ? Math.max(1, hdr.numBuffers) : 1;
    const parts: Uint8Array[] = [head.subarray(Math.min(VIRTIO_NET_HDR_SIZE, head.length))];
    this.repost(s, id0);
    for (let k = 1; k < count; k++) {
      const e = s.q.popUsed(mem);
      if (e === undefined) {
        throw new DriverError('device-failed', `device ${this.name}: num_buffers ${count} but only ${k} used buffers published on queue ${s.index}`);
      }
      const id = this.takeBuf(s, e.id);
      parts.push(mem.read(s.bufAddr[id]!, Math.min(e.len, s.bufSize)) ?? new Uint8Array(0));
      this.repost(s, id);
    }
    s.q.publish(mem);
    this.kickIfNeeded(s);
    return { hdr, frame: concatBytes(parts), buffers: count, queuePair };
  }

  /** Waits up to `timeoutMs` for a received frame on `queuePair`. */
  async receive(queuePair = 0, timeoutMs = 2000): Promise<ReceivedFrame | undefined> {
    const s = this.state(2 * queuePair);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.tryReceive(queuePair);
      if (f !== undefined) return f;
      if (!(await this.waitUsed(s, deadline))) return undefined;
    }
  }

  /**
   * Waits up to `timeoutMs` for a received frame on any queue pair (taken round robin, so one busy
   * pair cannot starve another): what a guest's NAPI poll over every RX queue sees.
   */
  async receiveAny(timeoutMs = 2000): Promise<ReceivedFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.queuePairs; i++) {
        const p = (this.rxCursor + i) % this.queuePairs;
        const f = this.tryReceive(p);
        if (f !== undefined) {
          this.rxCursor = (p + 1) % this.queuePairs;
          return f;
        }
      }
      if (!(await this.waitAnyRx(deadline))) return undefined;
    }
  }

  /** Collects `count` frames from `queuePair` (fewer when `timeoutMs` runs out). */
  async receiveMany(count: number, queuePair = 0, timeoutMs = 2000): Promise<ReceivedFrame[]> {
    const out: ReceivedFrame[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      const f = await this.receive(queuePair, Math.max(0, deadline - Date.now()));
      if (f === undefined) break;
      out.push(f);
    }
    return out;
  }

  /** Sends a control-queue command and returns the device's ack (VIRTIO_NET_OK or VIRTIO_NET_ERR). */
  async ctrl(command: NetCtrlCommand | Uint8Array, timeoutMs = 2000): Promise<number> {
    if (this.ctrlIndex === undefined) throw new DriverError('invalid-argument', `device ${this.name}: VIRTIO_NET_F_CTRL_VQ not negotiated`);
    const s = this.state(this.ctrlIndex);
    const bytes = command instanceof Uint8Array ? command : encodeNetCtrlCommand(command);
    const id = s.freeBufs.pop();
    if (id === undefined) throw new DriverError('invalid-state', `device ${this.name}: control queue full`);
    const addr = s.bufAddr[id]!;
    const mem = this.memory;
    mem.write(addr, bytes);
    const ackAddr = addr + s.bufSize - 1;
    mem.write(ackAddr, Uint8Array.of(0xff));
    const head = s.q.add(mem, [
      { addr, len: bytes.length, writable: false },
      { addr: ackAddr, len: 1, writable: true },
    ]);
    if (head === undefined) {
      s.freeBufs.push(id);
      throw new DriverError('invalid-state', `device ${this.name}: control queue full`);
    }
    s.bufOfHead.set(head, id);
    s.q.publish(mem);
    this.kickIfNeeded(s);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = s.q.popUsed(mem);
      if (e !== undefined) {
        const got = this.takeBuf(s, e.id);
        s.freeBufs.push(got);
        if (e.id === head) return e.len >= 1 ? mem.read(ackAddr, 1)![0]! : 0xff;
        continue;
      }
      if (!(await this.waitUsed(s, deadline))) {
        throw new DriverError('timeout', `device ${this.name}: no answer to control command after ${timeoutMs} ms`);
      }
    }
  }

  /**
   * Notifies queue `index`: writes its kick eventfd (what a vCPU's QueueNotify write becomes through
   * an ioeventfd), or QueueNotify through the MMIO window when attached with `notify: 'mmio'`.
   */
  kick(index: number): void {
    this.notify(this.state(index));
  }

  /**
   * Posts a deliberately malformed chain on transmit queue `queuePair` and kicks. Chain-level kinds
   * come back from the device with used length 0; `avail-idx-jump` corrupts avail->idx (ring-level).
   * Uses descriptor slots at the top of the table, which the driver then never hands out again.
   */
  postMalformed(kind: MalformedChain, queuePair = 0): void {
    const s = this.state(2 * queuePair + 1);
    writeMalformedChain(this.memory, s.q, kind, this.scratch);
    this.kick(s.index);
  }

  /** Reclaims used TX buffers of `queuePair` (also counts used-length-0 returns of malformed chains). */
  reclaim(queuePair = 0): number {
    return this.reclaimTx(this.state(2 * queuePair + 1));
  }

  /**
   * Resets the device (status 0), waits for the backend to stop and releases what the driver
   * owns: its epolls, and after create() also the guest memory, eventfds and transport. After
   * attach() the VMM's memory, eventfds and transport stay open. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.mmio.write(VIRTIO_MMIO_STATUS, 4, 0);
      await settleMmio(this.mmio);
    } finally {
      for (const s of this.queues.values()) {
        if (!s.call.closed) s.call.write(1n); // wake a waiter so it sees `closed`
        s.epoll.close();
      }
      this.rxAny.close();
      this.queues.clear();
      this.release();
    }
  }

  private state(index: number): DriverQueueState {
    if (this.closed) throw new DriverError('closed', `driver for ${this.name} is closed`);
    const s = this.queues.get(index);
    if (s === undefined) throw new DriverError('invalid-argument', `queue ${index} is not set up (queue pairs: ${this.queuePairs})`);
    return s;
  }

  private postTx(s: DriverQueueState, frame: Uint8Array, hdr: Partial<VirtioNetHdr> | undefined): boolean {
    if (frame.length + VIRTIO_NET_HDR_SIZE > s.bufSize) {
      throw new DriverError('invalid-argument', `frame of ${frame.length} bytes exceeds ${s.bufSize - VIRTIO_NET_HDR_SIZE}`);
    }
    const id = s.freeBufs.pop();
    if (id === undefined) return false;
    const mem = this.memory;
    const addr = s.bufAddr[id]!;
    const h: VirtioNetHdr = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0, ...hdr };
    const dst = mem.slice(addr, VIRTIO_NET_HDR_SIZE + frame.length)!;
    encodeVirtioNetHdr(h, dst, 0);
    dst.set(frame, VIRTIO_NET_HDR_SIZE);
    let head: number | undefined;
    const total = VIRTIO_NET_HDR_SIZE + frame.length;
    if (this.txLayout === 'single') {
      head = s.q.add(mem, [{ addr, len: total, writable: false }]);
    } else {
      const bufs = [
        { addr, len: VIRTIO_NET_HDR_SIZE, writable: false },
        { addr: addr + VIRTIO_NET_HDR_SIZE, len: frame.length, writable: false },
      ];
      head = this.txLayout === 'split' ? s.q.add(mem, bufs) : s.q.add(mem, bufs, { indirect: { tableAddr: addr + s.bufSize - 48 } });
    }
    if (head === undefined) {
      s.freeBufs.push(id);
      return false;
    }
    s.bufOfHead.set(head, id);
    return true;
  }

  private reclaimTx(s: DriverQueueState): number {
    let n = 0;
    for (;;) {
      const e = s.q.popUsed(this.memory);
      if (e === undefined) return n;
      const id = s.bufOfHead.get(e.id);
      if (id !== undefined) {
        s.bufOfHead.delete(e.id);
        s.freeBufs.push(id);
      }
      n++;
    }
  }

  private takeBuf(s: DriverQueueState, head: number): number {
    const id = s.bufOfHead.get(head);
    if (id === undefined) throw new DriverError('device-failed', `device ${this.name} returned head ${head} on queue ${s.index}, which has no buffer`);
    s.bufOfHead.delete(head);
    return id;
  }

  private repost(s: DriverQueueState, id: number): void {
    const head = s.q.add(this.memory, [{ addr: s.bufAddr[id]!, len: s.bufSize, writable: true }]);
    if (head === undefined) {
      s.freeBufs.push(id);
      return;
    }
    s.bufOfHead.set(head, id);
  }

  private refillRx(pair: number): void {
    const s = this.state(2 * pair);
    for (;;) {
      const id = s.freeBufs.pop();
      if (id === undefined) break;
      this.repost(s, id);
    }
    s.q.publish(this.memory);
    this.kickIfNeeded(s);
  }

  private kickIfNeeded(s: DriverQueueState): void {
    if (s.q.kickNeeded(this.memory)) this.notify(s);
  }

  private notify(s: DriverQueueState): void {
    if (this.notifyVia === 'mmio') this.mmio.write(VIRTIO_MMIO_QUEUE_NOTIFY, 4, s.index);
    else s.kick.write(1n);
  }

  /** Arms interrupts on every receive queue and waits on their call eventfds until one has used buffers. */
  private async waitAnyRx(deadline: number): Promise<boolean> {
    const mem = this.memory;
    for (;;) {
      if (this.closed) return false;
      for (let p = 0; p < this.queuePairs; p++) {
        const q = this.state(2 * p).q;
        if (q.usedPending(mem) > 0 || q.enableInterrupts(mem)) return true;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await this.rxAny.waitAsync(this.queuePairs, Math.min(remaining, 250));
      if (this.closed) return false;
      for (let p = 0; p < this.queuePairs; p++) this.state(2 * p).call.read();
    }
  }

  /** Arms interrupts and waits on the call eventfd until used buffers arrive or `deadline` passes. */
  private async waitUsed(s: DriverQueueState, deadline: number): Promise<boolean> {
    const mem = this.memory;
    for (;;) {
      if (this.closed) return false;
      if (s.q.usedPending(mem) > 0) return true;
      if (s.q.enableInterrupts(mem)) return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await s.epoll.waitAsync(1, Math.min(remaining, 250));
      if (this.closed) return false;
      s.call.read();
    }
  }
}
