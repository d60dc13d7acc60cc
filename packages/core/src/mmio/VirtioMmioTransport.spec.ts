import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  featureBit,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_NET,
} from '../defs/virtio.ts';
import * as R from '../defs/virtio_mmio.ts';
import * as N from '../defs/virtio_net.ts';
import { RecordingNetDevice } from '../testing/RecordingNetDevice.ts';
import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';
import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import { mmioNetConfig } from '../testing/mmioNetConfig.ts';
import { VirtioMmioTransport } from './VirtioMmioTransport.ts';
import type { VirtioMmioTransportOptions } from './VirtioMmioTransportOptions.ts';

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xef);
const CONFIG: NetDeviceConfig = mmioNetConfig({ mac: MAC });
const MEMORY: GuestMemoryLayout = {
  regions: [{ guestPhysAddr: 0, size: 0x10_0000, fd: 7, fdOffset: 0, hostAddr: 0x7f00_0000_0000n }],
};

class TestDevice extends RecordingNetDevice {
  constructor() {
    super(CONFIG);
  }
}

interface Rig {
  dev: TestDevice;
  t: VirtioMmioTransport;
  interrupts: number;
  errors: unknown[];
  notified: number[];
  fdsAsked: number[];
}

function rig(over: Partial<VirtioMmioTransportOptions> = {}): Rig {
  const dev = new TestDevice();
  const r: Rig = { dev, t: undefined as unknown as VirtioMmioTransport, interrupts: 0, errors: [], notified: [], fdsAsked: [] };
  r.t = new VirtioMmioTransport(dev, {
    memory: MEMORY,
    queueEventFds: (i) => {
      r.fdsAsked.push(i);
      return { kickFd: 100 + i, callFd: 200 + i };
    },
    onQueueNotify: (i) => r.notified.push(i),
    onInterrupt: () => r.interrupts++,
    onError: (e) => r.errors.push(e),
    ...over,
  });
  return r;
}

const rd = (t: VirtioMmioTransport, off: number): number => t.read(off, 4);
const wr = (t: VirtioMmioTransport, off: number, v: number): void => t.write(off, 4, v);
const status = (t: VirtioMmioTransport): number => rd(t, R.VIRTIO_MMIO_STATUS);
const addStatus = (t: VirtioMmioTransport, bits: number): void => wr(t, R.VIRTIO_MMIO_STATUS, status(t) | bits);

function deviceFeatures(t: VirtioMmioTransport): bigint {
  wr(t, R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  const lo = rd(t, R.VIRTIO_MMIO_DEVICE_FEATURES);
  wr(t, R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  const hi = rd(t, R.VIRTIO_MMIO_DEVICE_FEATURES);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function writeFeatures(t: VirtioMmioTransport, f: bigint): void {
  wr(t, R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  wr(t, R.VIRTIO_MMIO_DRIVER_FEATURES, Number(f & 0xffff_ffffn));
  wr(t, R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  wr(t, R.VIRTIO_MMIO_DRIVER_FEATURES, Number(f >> 32n));
}

function setupQueue(t: VirtioMmioTransport, index: number, size: number, desc: number, avail: number, used: number): void {
  wr(t, R.VIRTIO_MMIO_QUEUE_SEL, index);
  wr(t, R.VIRTIO_MMIO_QUEUE_NUM, size);
  wr(t, R.VIRTIO_MMIO_QUEUE_DESC_LOW, desc % 0x1_0000_0000);
  wr(t, R.VIRTIO_MMIO_QUEUE_DESC_HIGH, Math.floor(desc / 0x1_0000_0000));
  wr(t, R.VIRTIO_MMIO_QUEUE_AVAIL_LOW, avail % 0x1_0000_0000);
  wr(t, R.VIRTIO_MMIO_QUEUE_AVAIL_HIGH, Math.floor(avail / 0x1_0000_0000));
  wr(t, R.VIRTIO_MMIO_QUEUE_USED_LOW, used % 0x1_0000_0000);
  wr(t, R.VIRTIO_MMIO_QUEUE_USED_HIGH, Math.floor(used / 0x1_0000_0000));
  wr(t, R.VIRTIO_MMIO_QUEUE_READY, 1);
}

/** The §3.1.1 driver sequence up to FEATURES_OK. */
function negotiate(t: VirtioMmioTransport, features: bigint): void {
  wr(t, R.VIRTIO_MMIO_STATUS, 0);
  addStatus(t, VIRTIO_CONFIG_S_ACKNOWLEDGE);
  addStatus(t, VIRTIO_CONFIG_S_DRIVER);
  writeFeatures(t, features);
  addStatus(t, VIRTIO_CONFIG_S_FEATURES_OK);
}

/** Negotiates everything offered, sets up rx0, tx0 and the control queue, and sets DRIVER_OK. */
async function bringUp(r: Rig): Promise<void> {
  const { t } = r;
  const f = deviceFeatures(t) & ~featureBit(N.VIRTIO_NET_F_MQ);
  negotiate(t, f);
  setupQueue(t, 0, 64, 0x1000, 0x1400, 0x1800);
  setupQueue(t, 1, 64, 0x2000, 0x2400, 0x2800);
  setupQueue(t, 2, 16, 0x3000, 0x3100, 0x3200);
  addStatus(t, VIRTIO_CONFIG_S_DRIVER_OK);
  await t.settled();
}

describe('VirtioMmioTransport identification registers', () => {
  it('reads magic, version 2, device id and vendor id', () => {
    const { t } = rig();
    expect(rd(t, R.VIRTIO_MMIO_MAGIC_VALUE)).toBe(0x74726976);
    expect(rd(t, R.VIRTIO_MMIO_VERSION)).toBe(2);
    expect(rd(t, R.VIRTIO_MMIO_DEVICE_ID)).toBe(VIRTIO_ID_NET);
    expect(rd(t, R.VIRTIO_MMIO_VENDOR_ID)).toBe(VirtioMmioTransport.VENDOR_ID);
    expect(VirtioMmioTransport.VENDOR_ID).toBe(0x43494e56);
    expect(rd(rig({ vendorId: 0x554d4551 }).t, R.VIRTIO_MMIO_VENDOR_ID)).toBe(0x554d4551);
  });

  it('has no shared memory regions', () => {
    const { t } = rig();
    wr(t, R.VIRTIO_MMIO_SHM_SEL, 0);
    for (const off of [R.VIRTIO_MMIO_SHM_LEN_LOW, R.VIRTIO_MMIO_SHM_LEN_HIGH, R.VIRTIO_MMIO_SHM_BASE_LOW, R.VIRTIO_MMIO_SHM_BASE_HIGH]) {
      expect(rd(t, off)).toBe(0xffffffff);
    }
    expect(t.invalidAccesses).toBe(0);
  });
});

describe('VirtioMmioTransport feature negotiation', () => {
  it('shows device features in 32-bit windows', () => {
    const { t, dev } = rig();
    wr(t, R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    expect(rd(t, R.VIRTIO_MMIO_DEVICE_FEATURES)).toBe(Number(dev.deviceFeatures & 0xffff_ffffn));
    wr(t, R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    expect(rd(t, R.VIRTIO_MMIO_DEVICE_FEATURES)).toBe(Number(dev.deviceFeatures >> 32n));
    expect(rd(t, R.VIRTIO_MMIO_DEVICE_FEATURES) & 1).toBe(1); // VIRTIO_F_VERSION_1 = bit 32
    wr(t, R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    expect(rd(t, R.VIRTIO_MMIO_DEVICE_FEATURES)).toBe(0);
    wr(t, R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
    expect(rd(t, R.VIRTIO_MMIO_DEVICE_FEATURES)).toBe(0);
    expect(deviceFeatures(t)).toBe(dev.deviceFeatures);
  });

  it('assembles the driver features from the windows and hands them over at FEATURES_OK', () => {
    const { t, dev } = rig();
    const f = featureBit(VIRTIO_F_VERSION_1) | featureBit(N.VIRTIO_NET_F_MAC) | featureBit(N.VIRTIO_NET_F_CSUM);
    negotiate(t, f);
    expect(status(t)).toBe(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    expect(dev.ackedFeatures).toBe(f);
  });

  it('refuses FEATURES_OK when the device rejects the features', () => {
    const { t, dev } = rig();
    negotiate(t, featureBit(VIRTIO_F_VERSION_1) | featureBit(N.VIRTIO_NET_F_GUEST_TSO4));
    expect(status(t) & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
    expect(status(t)).toBe(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    expect(dev.ackedFeatures).toBe(0n);
  });

  it('refuses FEATURES_OK without VERSION_1 (legacy driver)', () => {
    const { t } = rig();
    negotiate(t, featureBit(N.VIRTIO_NET_F_MAC));
    expect(status(t) & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
  });

  it('refuses FEATURES_OK when the driver set a bit above 127', () => {
    const { t, dev } = rig();
    wr(t, R.VIRTIO_MMIO_STATUS, 0);
    writeFeatures(t, featureBit(VIRTIO_F_VERSION_1));
    wr(t, R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 5);
    wr(t, R.VIRTIO_MMIO_DRIVER_FEATURES, 1);
    addStatus(t, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    expect(status(t) & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
    expect(dev.ackedFeatures).toBe(0n);
  });

  it('ignores and counts DriverFeatures writes after FEATURES_OK', () => {
    const { t, dev } = rig();
    negotiate(t, featureBit(VIRTIO_F_VERSION_1));
    const before = t.invalidAccesses;
    wr(t, R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(t, R.VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
    expect(t.invalidAccesses).toBe(before + 1);
    expect(dev.ackedFeatures).toBe(featureBit(VIRTIO_F_VERSION_1));
  });
});

describe('VirtioMmioTransport status', () => {
  it('accumulates status bits and refuses to clear one without a reset', () => {
    const { t } = rig();
    addStatus(t, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    addStatus(t, VIRTIO_CONFIG_S_DRIVER);
    expect(status(t)).toBe(3);
    wr(t, R.VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    expect(status(t)).toBe(3);
    expect(t.invalidAccesses).toBe(1);
  });

  it('does not let the driver set NEEDS_RESET', () => {
    const { t } = rig();
    wr(t, R.VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(status(t)).toBe(VIRTIO_CONFIG_S_ACKNOWLEDGE);
  });

  it('refuses DRIVER_OK before FEATURES_OK', async () => {
    const r = rig();
    addStatus(r.t, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
    await r.t.settled();
    expect(status(r.t)).toBe(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    expect(r.dev.calls).toEqual([]);
  });

  it('DRIVER_OK activates the device with the ready queues, memory and eventfds', async () => {
    const r = rig();
    const { t, dev } = r;
    negotiate(t, deviceFeatures(t));
    setupQueue(t, 0, 128, 0x1000, 0x1800, 0x1a00);
    setupQueue(t, 1, 64, 0x4000, 0x4400, 0x4800);
    // Queue 2 (rx1) set up but never made ready: not part of the context.
    wr(t, R.VIRTIO_MMIO_QUEUE_SEL, 2);
    wr(t, R.VIRTIO_MMIO_QUEUE_NUM, 64);
    setupQueue(t, 4, 32, 0x8000, 0x8200, 0x8400);
    addStatus(t, VIRTIO_CONFIG_S_DRIVER_OK);
    await t.settled();
    expect(dev.activated).toBe(true);
    expect(status(t) & VIRTIO_CONFIG_S_DRIVER_OK).toBe(VIRTIO_CONFIG_S_DRIVER_OK);
    expect(dev.contexts).toEqual([
      {
        features: dev.deviceFeatures,
        memory: MEMORY,
        queues: [
          { index: 0, size: 128, descTable: 0x1000, availRing: 0x1800, usedRing: 0x1a00, kickFd: 100, callFd: 200 },
          { index: 1, size: 64, descTable: 0x4000, availRing: 0x4400, usedRing: 0x4800, kickFd: 101, callFd: 201 },
        ],
      },
    ]);
    // Queue 4 is the control queue: the device core serves it (watches its kick), the backend never sees it.
    expect(dev.host.watched).toEqual([104]);
    expect(r.fdsAsked).toEqual([0, 1, 4]);
    expect(r.errors).toEqual([]);
  });

  it('combines the high and low address halves', async () => {
    const dev = new TestDevice();
    const big: GuestMemoryLayout = { regions: [{ guestPhysAddr: 0x1_0000_0000, size: 0x10_0000, fd: 7, fdOffset: 0, hostAddr: 0n }] };
    const t = new VirtioMmioTransport(dev, { memory: big, queueEventFds: () => ({ kickFd: 1, callFd: 2 }) });
    negotiate(t, featureBit(VIRTIO_F_VERSION_1));
    setupQueue(t, 0, 16, 0x1_0000_1000, 0x1_0000_2000, 0x1_0000_3000);
    addStatus(t, VIRTIO_CONFIG_S_DRIVER_OK);
    await t.settled();
    expect(dev.contexts[0]!.queues[0]).toMatchObject({ descTable: 0x1_0000_1000, availRing: 0x1_0000_2000, usedRing: 0x1_0000_3000 });
  });

  it('a failed activation sets NEEDS_RESET, raises a config interrupt and reports the error', async () => {
    const r = rig();
    const { t } = r;
    negotiate(t, deviceFeatures(t));
    setupQueue(t, 0, 100, 0x1000, 0x1800, 0x1a00); // not a power of two
    addStatus(t, VIRTIO_CONFIG_S_DRIVER_OK);
    await t.settled();
    expect(status(t) & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(rd(t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(R.VIRTIO_MMIO_INT_CONFIG);
    expect(r.interrupts).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(VnicError.is(r.errors[0])).toBe(true);
    expect((r.errors[0] as VnicError).message).toMatch(/size 100/);
    expect(r.dev.activated).toBe(false);
  });

  it('a backend failure at activation is reported the same way', async () => {
    const r = rig();
    r.dev.activateError = new Error('tap is gone');
    await bringUp(r);
    expect(status(r.t) & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(r.errors).toEqual([r.dev.activateError]);
  });

  it('a queueEventFds callback that throws fails the activation instead of the MMIO write', async () => {
    const r = rig({
      queueEventFds: () => {
        throw new Error('no eventfd');
      },
    });
    await bringUp(r);
    expect(status(r.t) & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect((r.errors[0] as Error).message).toBe('no eventfd');
    expect(r.dev.calls).toEqual([]);
  });

  it('a failure of an activation the driver already reset does not mark the new session', async () => {
    const r = rig();
    let open!: () => void;
    r.dev.activateGate = new Promise((res) => (open = res));
    r.dev.activateError = new Error('late failure');
    negotiate(r.t, deviceFeatures(r.t));
    setupQueue(r.t, 0, 64, 0x1000, 0x1400, 0x1800);
    addStatus(r.t, VIRTIO_CONFIG_S_DRIVER_OK);
    while (r.dev.calls.length === 0) await Promise.resolve();
    negotiate(r.t, deviceFeatures(r.t)); // writes 0 first, then renegotiates
    open();
    await r.t.settled();
    expect(status(r.t)).toBe(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
    expect(r.errors).toEqual([r.dev.activateError]);
  });

  it('status 0 resets the device and every transport register', async () => {
    const r = rig();
    const { t, dev } = r;
    await bringUp(r);
    dev.setLinkUp(false);
    expect(rd(t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).not.toBe(0);
    wr(t, R.VIRTIO_MMIO_STATUS, 0);
    expect(status(t)).toBe(0);
    await t.settled();
    expect(dev.calls).toEqual(['activate', 'reset']);
    expect(dev.activated).toBe(false);
    expect(dev.ackedFeatures).toBe(0n);
    expect(rd(t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
    for (const q of [0, 1, 2]) {
      wr(t, R.VIRTIO_MMIO_QUEUE_SEL, q);
      expect(rd(t, R.VIRTIO_MMIO_QUEUE_READY)).toBe(0);
    }
    // The driver can bring the device up again.
    await bringUp(r);
    expect(dev.calls).toEqual(['activate', 'reset', 'activate']);
    expect(dev.activated).toBe(true);
  });

  it('lets the driver renegotiate right after writing 0, without waiting', async () => {
    const r = rig();
    await bringUp(r);
    // bringUp writes 0 and renegotiates synchronously.
    await bringUp(r);
    expect(r.dev.activated).toBe(true);
    expect(r.errors).toEqual([]);
  });
});

describe('VirtioMmioTransport queue registers', () => {
  let r: Rig;
  beforeEach(() => {
    r = rig();
  });

  it('reports QueueNumMax for existing queues and 0 past them', () => {
    for (let q = 0; q < r.dev.numQueues; q++) {
      wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, q);
      expect(rd(r.t, R.VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(256);
    }
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, r.dev.numQueues);
    expect(rd(r.t, R.VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(0);
    expect(rd(r.t, R.VIRTIO_MMIO_QUEUE_READY)).toBe(0);
  });

  it('reads QueueReady back and lets the driver clear it before DRIVER_OK', () => {
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, 1);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_READY, 1);
    expect(rd(r.t, R.VIRTIO_MMIO_QUEUE_READY)).toBe(1);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, 0);
    expect(rd(r.t, R.VIRTIO_MMIO_QUEUE_READY)).toBe(0);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, 1);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_READY, 0);
    expect(rd(r.t, R.VIRTIO_MMIO_QUEUE_READY)).toBe(0);
  });

  it('defaults QueueNum to QueueNumMax', async () => {
    negotiate(r.t, featureBit(VIRTIO_F_VERSION_1));
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x20000);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_USED_LOW, 0x30000);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_READY, 1);
    addStatus(r.t, VIRTIO_CONFIG_S_DRIVER_OK);
    await r.t.settled();
    expect(r.dev.contexts[0]!.queues[0]!.size).toBe(256);
  });

  it('ignores and counts queue setup writes once the queue is ready', async () => {
    negotiate(r.t, featureBit(VIRTIO_F_VERSION_1));
    setupQueue(r.t, 0, 16, 0x1000, 0x2000, 0x3000);
    const before = r.t.invalidAccesses;
    for (const off of [R.VIRTIO_MMIO_QUEUE_NUM, R.VIRTIO_MMIO_QUEUE_DESC_LOW, R.VIRTIO_MMIO_QUEUE_AVAIL_HIGH, R.VIRTIO_MMIO_QUEUE_USED_LOW]) {
      wr(r.t, off, 0x40);
    }
    expect(r.t.invalidAccesses).toBe(before + 4);
    addStatus(r.t, VIRTIO_CONFIG_S_DRIVER_OK);
    await r.t.settled();
    expect(r.dev.contexts[0]!.queues[0]).toMatchObject({ size: 16, descTable: 0x1000, availRing: 0x2000, usedRing: 0x3000 });
  });

  it('ignores and counts queue writes after DRIVER_OK, and for queues that do not exist', async () => {
    await bringUp(r);
    const before = r.t.invalidAccesses;
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, 3);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_NUM, 16);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_READY, 1);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_READY, 0);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, 99);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
    expect(r.t.invalidAccesses).toBe(before + 4);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_SEL, 0);
    expect(rd(r.t, R.VIRTIO_MMIO_QUEUE_READY)).toBe(1);
  });

  it('forwards QueueNotify after DRIVER_OK only, for existing queues', async () => {
    wr(r.t, R.VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    expect(r.notified).toEqual([]);
    await bringUp(r);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_NOTIFY, 2);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_NOTIFY, 5);
    wr(r.t, R.VIRTIO_MMIO_QUEUE_NOTIFY, 0x10000);
    expect(r.notified).toEqual([1, 2]);
  });

  it('reports an onQueueNotify that throws instead of throwing into the MMIO exit', async () => {
    const x = rig({
      onQueueNotify: () => {
        throw new Error('kick failed');
      },
    });
    await bringUp(x);
    expect(() => wr(x.t, R.VIRTIO_MMIO_QUEUE_NOTIFY, 0)).not.toThrow();
    expect((x.errors[0] as Error).message).toBe('kick failed');
  });

  it('counts QueueReset writes (VIRTIO_F_RING_RESET is not offered) and reads it as 0', () => {
    wr(r.t, R.VIRTIO_MMIO_QUEUE_RESET, 1);
    expect(r.t.invalidAccesses).toBe(1);
    expect(rd(r.t, R.VIRTIO_MMIO_QUEUE_RESET)).toBe(0);
  });
});

describe('VirtioMmioTransport interrupts and config space', () => {
  it('sets the used-buffer bit on signalUsedBuffer after DRIVER_OK, and InterruptACK clears it', async () => {
    const r = rig();
    r.t.signalUsedBuffer();
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
    expect(r.interrupts).toBe(0);
    await bringUp(r);
    r.t.signalUsedBuffer();
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(R.VIRTIO_MMIO_INT_VRING);
    expect(r.interrupts).toBe(1);
    wr(r.t, R.VIRTIO_MMIO_INTERRUPT_ACK, R.VIRTIO_MMIO_INT_VRING);
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
  });

  it('raises a config interrupt and a new generation on a link change', async () => {
    const r = rig();
    await bringUp(r);
    const g0 = rd(r.t, R.VIRTIO_MMIO_CONFIG_GENERATION);
    r.dev.setLinkUp(false);
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(R.VIRTIO_MMIO_INT_CONFIG);
    expect(r.interrupts).toBe(1);
    expect(rd(r.t, R.VIRTIO_MMIO_CONFIG_GENERATION)).not.toBe(g0);
    expect(r.t.read(R.VIRTIO_MMIO_CONFIG + 6, 2)).toBe(0);
    r.t.signalUsedBuffer();
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(R.VIRTIO_MMIO_INT_CONFIG | R.VIRTIO_MMIO_INT_VRING);
    wr(r.t, R.VIRTIO_MMIO_INTERRUPT_ACK, R.VIRTIO_MMIO_INT_CONFIG);
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(R.VIRTIO_MMIO_INT_VRING);
  });

  it('changes the generation but raises no interrupt for a config change before DRIVER_OK', () => {
    const r = rig();
    const g0 = rd(r.t, R.VIRTIO_MMIO_CONFIG_GENERATION);
    r.dev.setLinkUp(false);
    expect(rd(r.t, R.VIRTIO_MMIO_CONFIG_GENERATION)).not.toBe(g0);
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
    expect(r.interrupts).toBe(0);
  });

  it('turns a device needs-reset event into NEEDS_RESET and a config interrupt', async () => {
    const r = rig();
    await bringUp(r);
    r.dev.events.emit('needs-reset', 'avail ring corrupt', 0);
    expect(status(r.t) & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(R.VIRTIO_MMIO_INT_CONFIG);
    expect(r.interrupts).toBe(1);
  });

  it('reports the used-buffer bit permanently with usedBufferAlwaysPending', async () => {
    const r = rig({ usedBufferAlwaysPending: true });
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
    await bringUp(r);
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(R.VIRTIO_MMIO_INT_VRING);
    wr(r.t, R.VIRTIO_MMIO_INTERRUPT_ACK, 3);
    expect(rd(r.t, R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(R.VIRTIO_MMIO_INT_VRING);
  });

  it('reads config space from 0x100 with 1, 2 and 4 byte accesses', () => {
    const { t } = rig();
    const C = R.VIRTIO_MMIO_CONFIG;
    expect([0, 1, 2, 3, 4, 5].map((i) => t.read(C + i, 1))).toEqual([...MAC]);
    expect(t.read(C + 0, 4)).toBe(0xab005452);
    expect(t.read(C + 4, 2)).toBe(0xefcd);
    expect(t.read(C + 6, 2)).toBe(N.VIRTIO_NET_S_LINK_UP);
    expect(t.read(C + 8, 2)).toBe(2);
    expect(t.read(C + 10, 2)).toBe(1500);
    expect(t.read(C + 12, 4)).toBe(0xffffffff);
    expect(t.read(C + 16, 1)).toBe(0xff);
    expect(t.read(C + 17, 4)).toBe(0);
    expect(t.read(C + 0x400, 4)).toBe(0);
    expect(t.invalidAccesses).toBe(0);
  });

  it('ignores config writes', () => {
    const { t } = rig();
    t.write(R.VIRTIO_MMIO_CONFIG, 4, 0x12345678);
    t.write(R.VIRTIO_MMIO_CONFIG + 4, 2, 0xffff);
    expect(t.read(R.VIRTIO_MMIO_CONFIG, 4)).toBe(0xab005452);
  });
});

describe('VirtioMmioTransport bad accesses', () => {
  it.each<[string, number, number]>([
    ['an unaligned register', 0x001, 4],
    ['a 2-byte register read', R.VIRTIO_MMIO_MAGIC_VALUE, 2],
    ['a 1-byte register read', R.VIRTIO_MMIO_STATUS, 1],
    ['an 8-byte register read', R.VIRTIO_MMIO_STATUS, 8],
    ['a hole', 0x018, 4],
    ['a legacy register (QueuePFN)', 0x040, 4],
    ['write-only QueueNotify', R.VIRTIO_MMIO_QUEUE_NOTIFY, 4],
    ['write-only QueueSel', R.VIRTIO_MMIO_QUEUE_SEL, 4],
    ['write-only DriverFeatures', R.VIRTIO_MMIO_DRIVER_FEATURES, 4],
    ['write-only QueueNum', R.VIRTIO_MMIO_QUEUE_NUM, 4],
    ['write-only InterruptACK', R.VIRTIO_MMIO_INTERRUPT_ACK, 4],
    ['a 3-byte config read', R.VIRTIO_MMIO_CONFIG, 3],
    ['a negative offset', -4, 4],
    ['a fractional offset', 4.5, 4],
    ['a NaN offset', Number.NaN, 4],
  ])('reads %s as 0 and counts it', (_name, offset, size) => {
    const { t } = rig();
    expect(t.read(offset, size)).toBe(0);
    expect(t.invalidAccesses).toBe(1);
  });

  it.each<[string, number, number, number]>([
    ['read-only MagicValue', R.VIRTIO_MMIO_MAGIC_VALUE, 4, 0],
    ['read-only DeviceFeatures', R.VIRTIO_MMIO_DEVICE_FEATURES, 4, 0],
    ['read-only InterruptStatus', R.VIRTIO_MMIO_INTERRUPT_STATUS, 4, 3],
    ['read-only ConfigGeneration', R.VIRTIO_MMIO_CONFIG_GENERATION, 4, 1],
    ['a 2-byte Status write', R.VIRTIO_MMIO_STATUS, 2, 1],
    ['a hole', 0x0f8, 4, 1],
    ['a non-integer value', R.VIRTIO_MMIO_STATUS, 4, 0.5],
    ['a 3-byte config write', R.VIRTIO_MMIO_CONFIG, 3, 1],
  ])('ignores a write to %s and counts it', (_name, offset, size, value) => {
    const { t } = rig();
    t.write(offset, size, value);
    expect(t.invalidAccesses).toBe(1);
    expect(status(t)).toBe(0);
    expect(rd(t, R.VIRTIO_MMIO_MAGIC_VALUE)).toBe(0x74726976);
  });

  it('never throws whatever the guest does', () => {
    const offsets = fc.oneof(
      fc.integer({ min: 0, max: 0x200 }).map((n) => n & ~3),
      fc.integer({ min: -8, max: 0x300 }),
    );
    const access = fc.record({
      write: fc.boolean(),
      offset: offsets,
      size: fc.constantFrom(1, 2, 3, 4, 8),
      value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 2, 3, 4, 8, 0xf, 0x4f)),
    });
    fc.assert(
      fc.property(fc.array(access, { maxLength: 80 }), (accesses) => {
        const { t } = rig();
        for (const a of accesses) {
          if (a.write) t.write(a.offset, a.size, a.value);
          else expect(Number.isInteger(t.read(a.offset, a.size))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('VirtioMmioTransport close', () => {
  it('detaches from the device events and ignores later accesses', () => {
    const r = rig();
    expect(r.dev.events.listenerCount('config-change')).toBe(1);
    r.t.close();
    r.t.close();
    expect(r.dev.events.listenerCount('config-change')).toBe(0);
    expect(r.dev.events.listenerCount('needs-reset')).toBe(0);
    expect(rd(r.t, R.VIRTIO_MMIO_MAGIC_VALUE)).toBe(0);
    r.dev.setLinkUp(false);
    expect(r.interrupts).toBe(0);
  });
});
