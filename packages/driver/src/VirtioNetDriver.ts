import {
  VIRTIO_MMIO_INTERRUPT_ACK,
  VIRTIO_MMIO_INTERRUPT_STATUS,
  VIRTIO_MMIO_STATUS,
  hasFeature,
  PackedDriverQueue,
  virtio_net,
  type DriverQueue,
  type GuestMemory,
  type NetCtrlCommand,
  type VirtioMmioTransport,
  type VirtioNetConfig,
  type VirtioNetDevice,
  type VirtioNetHdr,
} from '@vnic/core';
import type { Epoll, MemfdGuestMemory } from '@vnic/sys';
import { bringUpMmio } from './bringUpMmio.ts';
import { createVmmHarness } from './createVmmHarness.ts';
import { DriverError } from './DriverError.ts';
import { driverGuestMemoryBytes } from './driverGuestMemoryBytes.ts';
import { DriverIo } from './DriverIo.ts';
import type { DriverRing } from './DriverRing.ts';
import type { DriverSetup } from './DriverSetup.ts';
import type { DriverStart } from './DriverStart.ts';
import type { MalformedChain } from './MalformedChain.ts';
import type { MmioWindow } from './MmioWindow.ts';
import { readMmioNetConfig } from './readMmioNetConfig.ts';
import type { ReceivedFrame } from './ReceivedFrame.ts';
import { settleMmio } from './settleMmio.ts';
import type { VirtioNetDriverAttachOptions } from './VirtioNetDriverAttachOptions.ts';
import type { VirtioNetDriverOptions } from './VirtioNetDriverOptions.ts';
import { writeMalformedChain } from './writeMalformedChain.ts';
import { writeMalformedPackedList } from './writeMalformedPackedList.ts';

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
 *
 * The jobs live in their own files: createVmmHarness (the VMM of create()), bringUpMmio (the
 * register sequence), DriverIo and DriverBufferPool (buffers and I/O), writeMalformedChain
 * (fault injection). This class is the facade over them.
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

  private readonly io: DriverIo;
  private readonly scratch: number;
  private readonly release: () => void;
  private readonly interruptCounter: { n: number };
  private closed = false;

  private constructor(start: DriverStart, setup: DriverSetup) {
    this.interruptCounter = start.interruptCounter;
    this.device = start.device;
    this.mmio = start.mmio;
    this.transport = start.transport;
    this.guestMemory = start.guestMemory;
    this.memory = start.memory;
    this.name = start.name;
    this.release = start.release;
    this.features = setup.features;
    this.queuePairs = setup.queuePairs;
    this.queueSize = setup.queueSize;
    this.ctrlIndex = setup.ctrlIndex;
    this.rxBufferSize = setup.rxBufferSize;
    this.scratch = setup.scratch;
    this.io = new DriverIo({
      memory: start.memory,
      mmio: start.mmio,
      name: start.name,
      notify: start.notify,
      txLayout: start.tuning.txLayout ?? 'single',
      features: setup.features,
      queuePairs: setup.queuePairs,
      ctrlIndex: setup.ctrlIndex,
      queues: setup.queues,
      rxAny: setup.rxAny,
    });
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
    return driverGuestMemoryBytes(options);
  }

  /**
   * Allocates guest memory and eventfds, builds a VirtioMmioTransport over `device`, then
   * initialises it like attach(): negotiates features, sets the queues up, sets DRIVER_OK (which
   * activates the device), selects the queue pairs with the control queue (MQ) and posts RX
   * buffers. Everything is released again if any step fails.
   */
  static async create(options: VirtioNetDriverOptions): Promise<VirtioNetDriver> {
    const harness = createVmmHarness(options);
    try {
      return await VirtioNetDriver.start(harness);
    } catch (err) {
      harness.release();
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

  /** The set-up shared by create() and attach(): bring-up, RX buffers, VQ_PAIRS_SET; on failure reset and close the epolls. */
  private static async start(init: DriverStart): Promise<VirtioNetDriver> {
    const epolls: Epoll[] = [];
    try {
      const driver = new VirtioNetDriver(init, await bringUpMmio(init, epolls));
      for (let p = 0; p < driver.queuePairs; p++) driver.io.refillRx(p);
      if (hasFeature(driver.features, virtio_net.VIRTIO_NET_F_MQ) && driver.queuePairs > 1) {
        const ack = await driver.ctrl({ kind: 'mq-vq-pairs-set', pairs: driver.queuePairs });
        if (ack !== virtio_net.VIRTIO_NET_OK) throw new DriverError('device-failed', `device ${init.name} refused VQ_PAIRS_SET ${driver.queuePairs}`);
      }
      return driver;
    } catch (err) {
      try {
        init.mmio.write(VIRTIO_MMIO_STATUS, 4, 0);
        await settleMmio(init.mmio);
      } catch {
        // reporting the original error matters more
      }
      for (const e of epolls) e.close();
      throw err;
    }
  }

  /** Used-buffer notifications (call eventfd writes) the device sent on queue `index` so far. */
  notifications(index: number): number {
    return this.io.notifications(index);
  }

  /** The driver-side split ring of queue `index` (for tests that need raw access); throws on a packed ring (see `ring`). */
  queue(index: number): DriverQueue {
    const q = this.io.state(index).q;
    if (q instanceof PackedDriverQueue) throw new DriverError('invalid-state', `queue ${index} is a packed ring (RING_PACKED negotiated): use ring(${index})`);
    return q;
  }

  /** The driver side of queue `index` in the layout negotiated (split DriverQueue or PackedDriverQueue). */
  ring(index: number): DriverRing {
    return this.io.state(index).q;
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
    return this.io.send(frame, options);
  }

  /** Queues many frames, publishes once, kicks at most once. Returns how many were queued. */
  sendBatch(frames: readonly Uint8Array[], options: { hdr?: Partial<VirtioNetHdr>; queuePair?: number } = {}): number {
    return this.io.sendBatch(frames, options);
  }

  /** Waits until every frame sent on `queuePair` was consumed by the device. */
  flushTx(queuePair = 0, timeoutMs = 2000): Promise<void> {
    return this.io.flushTx(queuePair, timeoutMs);
  }

  /** Takes a received frame if one is ready (no waiting); reposts its buffers. */
  tryReceive(queuePair = 0): ReceivedFrame | undefined {
    return this.io.tryReceive(queuePair);
  }

  /** Waits up to `timeoutMs` for a received frame on `queuePair`. */
  receive(queuePair = 0, timeoutMs = 2000): Promise<ReceivedFrame | undefined> {
    return this.io.receive(queuePair, timeoutMs);
  }

  /**
   * Waits up to `timeoutMs` for a received frame on `queuePair` on the calling thread, blocking it:
   * polls the used ring for up to `spinUs` microseconds (interrupts off, as a busy-polling guest;
   * sched_yield between polls, so a device thread on the same CPU runs),
   * then arms the interrupt and blocks in epoll_wait on the call eventfd. For a guest loop that
   * owns its thread (a latency bench): the event loop does not run meanwhile.
   */
  receiveSync(queuePair = 0, timeoutMs = 2000, spinUs = 0): ReceivedFrame | undefined {
    return this.io.receiveSync(queuePair, timeoutMs, spinUs);
  }

  /** Waits of receiveSync so far that slept on the call eventfd (the rest found the frame while polling). */
  get syncSleeps(): number {
    return this.io.syncSleeps;
  }

  /**
   * Waits up to `timeoutMs` for a received frame on any queue pair (taken round robin, so one busy
   * pair cannot starve another): what a guest's NAPI poll over every RX queue sees.
   */
  receiveAny(timeoutMs = 2000): Promise<ReceivedFrame | undefined> {
    return this.io.receiveAny(timeoutMs);
  }

  /** Collects `count` frames from `queuePair` (fewer when `timeoutMs` runs out). */
  async receiveMany(count: number, queuePair = 0, timeoutMs = 2000): Promise<ReceivedFrame[]> {
    const out: ReceivedFrame[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      const f = await this.io.receive(queuePair, Math.max(0, deadline - Date.now()));
      if (f === undefined) break;
      out.push(f);
    }
    return out;
  }

  /** Sends a control-queue command and returns the device's ack (VIRTIO_NET_OK or VIRTIO_NET_ERR). */
  ctrl(command: NetCtrlCommand | Uint8Array, timeoutMs = 2000): Promise<number> {
    return this.io.ctrl(command, timeoutMs);
  }

  /**
   * Notifies queue `index`: writes its kick eventfd (what a vCPU's QueueNotify write becomes through
   * an ioeventfd), or QueueNotify through the MMIO window when attached with `notify: 'mmio'`.
   */
  kick(index: number): void {
    this.io.notify(this.io.state(index));
  }

  /**
   * Posts a deliberately malformed chain on transmit queue `queuePair` and kicks. Chain-level kinds
   * come back from the device with used length 0; `avail-idx-jump` corrupts avail->idx (ring-level;
   * on a packed ring: a list running into a descriptor never made available). A split ring uses
   * descriptor slots at the top of the table, which the driver then never hands out again; a packed
   * ring takes the next positions under a Buffer ID of its own (PACKED_CHAIN_LEVEL_MALFORMED lists
   * the kinds a packed ring can carry).
   */
  postMalformed(kind: MalformedChain, queuePair = 0): void {
    const s = this.io.state(2 * queuePair + 1);
    if (s.q instanceof PackedDriverQueue) writeMalformedPackedList(this.memory, s.q, kind, this.scratch);
    else writeMalformedChain(this.memory, s.q, kind, this.scratch);
    this.io.notify(s);
  }

  /** Reclaims used TX buffers of `queuePair` (also counts used-length-0 returns of malformed chains). */
  reclaim(queuePair = 0): number {
    return this.io.reclaim(queuePair);
  }

  /**
   * Resets the device (status 0), waits for the backend to stop and releases what the driver
   * owns: its epolls, and after create() also the guest memory, eventfds and transport. After
   * attach() the VMM's memory, eventfds and transport stay open. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.io.markClosed();
    try {
      this.mmio.write(VIRTIO_MMIO_STATUS, 4, 0);
      await settleMmio(this.mmio);
    } finally {
      this.io.dispose();
      this.release();
    }
  }
}
