import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_NEEDS_RESET } from '../defs/virtio.ts';
import * as R from '../defs/virtio_mmio.ts';
import type { ActivateContext } from '../device/ActivateContext.ts';
import type { QueueContext } from '../device/QueueContext.ts';
import type { VirtioNetDevice } from '../device/VirtioNetDevice.ts';
import type { VirtioMmioTransportOptions } from './VirtioMmioTransportOptions.ts';

const TWO_32 = 0x1_0000_0000;
/** Feature words a driver may select (bits 0..127); higher selectors read 0. */
const FEATURE_WORDS = 4;

interface MmioQueue {
  num: number;
  ready: boolean;
  descLo: number;
  descHi: number;
  availLo: number;
  availHi: number;
  usedLo: number;
  usedHi: number;
}

/**
 * virtio-mmio version 2 (virtio 1.2 §4.2.2) in front of a `VirtioNetDevice`: the VMM forwards its
 * MMIO exits as `read(offset, size)` / `write(offset, size, value)`. Registers take 32-bit aligned
 * accesses; config space from 0x100 takes 1, 2 or 4 bytes. Anything else (bad size or offset, a
 * write-only register read, a read-only one written, queue setup after QueueReady or DRIVER_OK)
 * reads 0 or is ignored and counted in `invalidAccesses`: a guest can never make it throw.
 *
 * FEATURES_OK goes through `device.setDriverFeatures` (refused: the bit stays clear); DRIVER_OK
 * builds an `ActivateContext` from the ready queues and calls `device.activate` asynchronously;
 * writing 0 to Status resets the device. A failed activate sets DEVICE_NEEDS_RESET and raises a
 * config interrupt; `settled()` waits for the pending activate/reset.
 *
 * A real VMM registers each queue's kick fd as a KVM ioeventfd on QueueNotify and each call fd as
 * a KVM irqfd, so QueueNotify writes and used-buffer interrupts usually bypass the transport; a VMM
 * without ioeventfd gets the writes through `onQueueNotify`, and one that sees call fds fire calls
 * `signalUsedBuffer()` (or sets `usedBufferAlwaysPending`).
 */
export class VirtioMmioTransport {
  /** Default VendorID: "VNIC" as a little-endian u32. */
  static readonly VENDOR_ID = 0x43494e56;

  /** The device behind the registers. */
  readonly device: VirtioNetDevice;
  private readonly options: VirtioMmioTransportOptions;
  private readonly vendorId: number;
  private readonly detach: (() => void)[];

  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private driverFeaturesBeyondRange = false;
  private queueSel = 0;
  private queues: MmioQueue[];
  private interrupts = 0;
  private configChanges = 0;
  private epoch = 0;
  private pending: Promise<void> = Promise.resolve();
  private invalid = 0;
  private closed = false;

  constructor(device: VirtioNetDevice, options: VirtioMmioTransportOptions) {
    this.device = device;
    this.options = options;
    this.vendorId = (options.vendorId ?? VirtioMmioTransport.VENDOR_ID) >>> 0;
    this.queues = this.freshQueues();
    this.detach = [device.events.on('config-change', () => this.onConfigChange()), device.events.on('needs-reset', () => this.onNeedsReset())];
  }

  /** The Status register. */
  get deviceStatus(): number {
    return this.status;
  }

  /** The InterruptStatus register as the guest would read it. */
  get interruptStatus(): number {
    return this.readInterruptStatus();
  }

  /** Accesses that were ignored or read 0 (bad size/offset/direction, writes in the wrong state). */
  get invalidAccesses(): number {
    return this.invalid;
  }

  /** Resolves when every activate/reset started so far has completed (never rejects). */
  settled(): Promise<void> {
    return this.pending;
  }

  /** Sets the used-buffer bit of InterruptStatus and interrupts the guest (after DRIVER_OK). */
  signalUsedBuffer(): void {
    if (this.closed || (this.status & VIRTIO_CONFIG_S_DRIVER_OK) === 0) return;
    this.interrupts |= R.VIRTIO_MMIO_INT_VRING;
    this.interrupt();
  }

  /** Detaches from the device's events; later accesses read 0 / are ignored. The device stays open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.detach) off();
  }

  /** An MMIO read of `size` bytes at `offset` from the region base; returns the value as a u32. */
  read(offset: number, size: number): number {
    if (this.closed || !Number.isInteger(offset) || offset < 0) return this.bad();
    if (offset >= R.VIRTIO_MMIO_CONFIG) {
      if (size !== 1 && size !== 2 && size !== 4) return this.bad();
      const bytes = this.device.readConfig(offset - R.VIRTIO_MMIO_CONFIG, size);
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + (bytes[i] ?? 0);
      return v;
    }
    if (size !== 4 || offset % 4 !== 0) return this.bad();
    switch (offset) {
      case R.VIRTIO_MMIO_MAGIC_VALUE:
        return R.VIRTIO_MMIO_MAGIC;
      case R.VIRTIO_MMIO_VERSION:
        return R.VIRTIO_MMIO_VERSION_2;
      case R.VIRTIO_MMIO_DEVICE_ID:
        return this.device.deviceType;
      case R.VIRTIO_MMIO_VENDOR_ID:
        return this.vendorId;
      case R.VIRTIO_MMIO_DEVICE_FEATURES:
        if (this.deviceFeaturesSel >= FEATURE_WORDS) return 0;
        return Number((this.device.deviceFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn);
      case R.VIRTIO_MMIO_QUEUE_NUM_MAX:
        return this.queues[this.queueSel] === undefined ? 0 : this.device.queueMaxSize;
      case R.VIRTIO_MMIO_QUEUE_READY:
        return this.queues[this.queueSel]?.ready === true ? 1 : 0;
      case R.VIRTIO_MMIO_INTERRUPT_STATUS:
        return this.readInterruptStatus();
      case R.VIRTIO_MMIO_STATUS:
        return this.status;
      case R.VIRTIO_MMIO_SHM_LEN_LOW:
      case R.VIRTIO_MMIO_SHM_LEN_HIGH:
      case R.VIRTIO_MMIO_SHM_BASE_LOW:
      case R.VIRTIO_MMIO_SHM_BASE_HIGH:
        // No shared memory regions: length -1, base ~0 (§4.2.2).
        return 0xffff_ffff;
      case R.VIRTIO_MMIO_QUEUE_RESET:
        return 0;
      case R.VIRTIO_MMIO_CONFIG_GENERATION:
        return (this.device.configGeneration + this.configChanges) >>> 0;
      default:
        return this.bad();
    }
  }

  /** An MMIO write of `size` bytes of `value` at `offset` from the region base. */
  write(offset: number, size: number, value: number): void {
    if (this.closed || !Number.isInteger(offset) || offset < 0 || !Number.isInteger(value)) {
      this.bad();
      return;
    }
    if (offset >= R.VIRTIO_MMIO_CONFIG) {
      if (size !== 1 && size !== 2 && size !== 4) {
        this.bad();
        return;
      }
      const bytes = new Uint8Array(size);
      for (let i = 0, v = value >>> 0; i < size; i++, v >>>= 8) bytes[i] = v & 0xff;
      this.device.writeConfig(offset - R.VIRTIO_MMIO_CONFIG, bytes);
      return;
    }
    if (size !== 4 || offset % 4 !== 0) {
      this.bad();
      return;
    }
    const v = value >>> 0;
    switch (offset) {
      case R.VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = v;
        return;
      case R.VIRTIO_MMIO_DRIVER_FEATURES:
        this.writeDriverFeatures(v);
        return;
      case R.VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = v;
        return;
      case R.VIRTIO_MMIO_QUEUE_SEL:
        this.queueSel = v;
        return;
      case R.VIRTIO_MMIO_QUEUE_NUM:
        this.setupQueue((q) => (q.num = v));
        return;
      case R.VIRTIO_MMIO_QUEUE_READY: {
        const q = this.queues[this.queueSel];
        if (q === undefined || (this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.bad();
        else q.ready = (v & 1) === 1;
        return;
      }
      case R.VIRTIO_MMIO_QUEUE_NOTIFY:
        this.notify(v);
        return;
      case R.VIRTIO_MMIO_INTERRUPT_ACK:
        this.interrupts &= ~v;
        return;
      case R.VIRTIO_MMIO_STATUS:
        this.writeStatus(v & 0xff);
        return;
      case R.VIRTIO_MMIO_QUEUE_DESC_LOW:
        this.setupQueue((q) => (q.descLo = v));
        return;
      case R.VIRTIO_MMIO_QUEUE_DESC_HIGH:
        this.setupQueue((q) => (q.descHi = v));
        return;
      case R.VIRTIO_MMIO_QUEUE_AVAIL_LOW:
        this.setupQueue((q) => (q.availLo = v));
        return;
      case R.VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
        this.setupQueue((q) => (q.availHi = v));
        return;
      case R.VIRTIO_MMIO_QUEUE_USED_LOW:
        this.setupQueue((q) => (q.usedLo = v));
        return;
      case R.VIRTIO_MMIO_QUEUE_USED_HIGH:
        this.setupQueue((q) => (q.usedHi = v));
        return;
      case R.VIRTIO_MMIO_SHM_SEL:
        // Accepted; every region reads as absent.
        return;
      default:
        // Read-only registers, QueueReset (VIRTIO_F_RING_RESET is not offered), holes.
        this.bad();
    }
  }

  private writeDriverFeatures(v: number): void {
    if ((this.status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) {
      this.bad();
      return;
    }
    const sel = this.driverFeaturesSel;
    if (sel >= FEATURE_WORDS) {
      // Bits above 127 are never offered: remember that the driver acked one.
      if (v !== 0) this.driverFeaturesBeyondRange = true;
      return;
    }
    const shift = BigInt(32 * sel);
    this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(v) << shift);
  }

  private setupQueue(set: (q: MmioQueue) => void): void {
    const q = this.queues[this.queueSel];
    if (q === undefined || q.ready || (this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) {
      this.bad();
      return;
    }
    set(q);
  }

  private notify(index: number): void {
    if ((this.status & VIRTIO_CONFIG_S_DRIVER_OK) === 0 || index >= this.queues.length) {
      this.bad();
      return;
    }
    try {
      this.options.onQueueNotify?.(index);
    } catch (err) {
      this.report(err);
    }
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.resetTransport();
      return;
    }
    const cur = this.status & ~VIRTIO_CONFIG_S_NEEDS_RESET;
    const next = value & ~VIRTIO_CONFIG_S_NEEDS_RESET;
    if ((cur & ~next) !== 0) {
      // Only a reset may clear status bits (§2.1.2).
      this.bad();
      return;
    }
    let added = next & ~cur;
    if ((added & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) {
      const accepted = !this.driverFeaturesBeyondRange && this.device.setDriverFeatures(this.driverFeatures);
      if (!accepted) added &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    }
    if ((added & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && ((cur | added) & VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
      // A modern device cannot run without negotiated features.
      added &= ~VIRTIO_CONFIG_S_DRIVER_OK;
      this.bad();
    }
    this.status |= added;
    if ((added & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.activate();
  }

  private activate(): void {
    const epoch = this.epoch;
    let ctx: ActivateContext;
    try {
      const queues: QueueContext[] = [];
      this.queues.forEach((q, index) => {
        if (!q.ready) return;
        const fds = this.options.queueEventFds(index);
        queues.push({
          index,
          size: q.num,
          descTable: q.descHi * TWO_32 + q.descLo,
          availRing: q.availHi * TWO_32 + q.availLo,
          usedRing: q.usedHi * TWO_32 + q.usedLo,
          kickFd: fds.kickFd,
          callFd: fds.callFd,
        });
      });
      ctx = { features: this.device.ackedFeatures, memory: this.options.memory, queues };
    } catch (err) {
      this.track(Promise.reject(err instanceof Error ? err : new Error(String(err))), epoch);
      return;
    }
    this.track(
      this.call(() => this.device.activate(ctx)),
      epoch,
    );
  }

  private resetTransport(): void {
    this.epoch++;
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.driverFeaturesBeyondRange = false;
    this.queueSel = 0;
    this.queues = this.freshQueues();
    this.interrupts = 0;
    this.track(
      this.call(() => this.device.reset()),
      this.epoch,
    );
  }

  /** Calls a device method, turning a synchronous throw into a rejection. */
  private call(op: () => Promise<unknown>): Promise<unknown> {
    try {
      return op();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private track(op: Promise<unknown>, epoch: number): void {
    const handled = op.then(
      () => undefined,
      (err: unknown) => this.fail(err, epoch),
    );
    this.pending = Promise.all([this.pending, handled]).then(() => undefined);
  }

  private fail(err: unknown, epoch: number): void {
    if (epoch === this.epoch && this.status !== 0 && !this.closed) {
      this.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
      this.configInterrupt();
    }
    this.report(err);
  }

  private onConfigChange(): void {
    this.configChanges = (this.configChanges + 1) >>> 0;
    if ((this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.configInterrupt();
  }

  private onNeedsReset(): void {
    if (this.status === 0) return;
    this.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if ((this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.configInterrupt();
  }

  private configInterrupt(): void {
    this.interrupts |= R.VIRTIO_MMIO_INT_CONFIG;
    this.interrupt();
  }

  private interrupt(): void {
    try {
      this.options.onInterrupt?.();
    } catch (err) {
      this.report(err);
    }
  }

  private readInterruptStatus(): number {
    const always = this.options.usedBufferAlwaysPending === true && (this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    return this.interrupts | (always ? R.VIRTIO_MMIO_INT_VRING : 0);
  }

  private report(err: unknown): void {
    try {
      this.options.onError?.(err);
    } catch {
      // A VMM callback's failure must not reach the guest's MMIO exit.
    }
  }

  private bad(): number {
    this.invalid++;
    return 0;
  }

  private freshQueues(): MmioQueue[] {
    return Array.from({ length: this.device.numQueues }, () => ({
      num: this.device.queueMaxSize,
      ready: false,
      descLo: 0,
      descHi: 0,
      availLo: 0,
      availHi: 0,
      usedLo: 0,
      usedHi: 0,
    }));
  }
}
