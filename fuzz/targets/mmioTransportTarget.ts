import type { ActivateContext } from '../../packages/core/src/device/ActivateContext.ts';
import { NetDeviceBase } from '../../packages/core/src/device/NetDeviceBase.ts';
import type { NetDeviceConfig } from '../../packages/core/src/device/NetDeviceConfig.ts';
import type { QueueStats } from '../../packages/core/src/device/QueueStats.ts';
import { VirtioMmioTransport } from '../../packages/core/src/mmio/VirtioMmioTransport.ts';
import type { QueueHost } from '../../packages/core/src/device/QueueHost.ts';
import { GuestMemory } from '../../packages/core/src/memory/GuestMemory.ts';
import type { QueueState } from '../../packages/core/src/queue/QueueState.ts';
import { mmioNetConfig } from '../../packages/core/src/testing/mmioNetConfig.ts';
import { FuzzOracleError } from '../FuzzOracleError.ts';

const CONFIG: NetDeviceConfig = mmioNetConfig({ id: 'fuzz0', backend: 'fuzz', mac: Uint8Array.of(0x52, 0x54, 0, 0, 0, 1) });

/** A device with no data plane (activation and reset succeed at once): only the transport is under test. */
class NullDevice extends NetDeviceBase {
  constructor() {
    super(CONFIG, (1n << 64n) - 1n);
  }
  override stats(): QueueStats[] {
    return [];
  }
  /** The control queue runs over plain bytes (the layout's host address is fake), never kicked or signalled. */
  protected override queueHost(): QueueHost {
    return {
      mapMemory: (layout) => new GuestMemory(layout.regions.map((r) => ({ guestPhysAddr: r.guestPhysAddr, bytes: new Uint8Array(r.size) }))),
      watchKick: () => () => undefined,
      signal: () => undefined,
    };
  }
  protected override async activateDataPlane(_ctx: ActivateContext): Promise<void> {}
  protected override async resetDataPlane(): Promise<QueueState[]> {
    return [];
  }
  protected override async closeBackend(): Promise<void> {}
}

const SIZES = [1, 2, 4, 8] as const;

/**
 * Fuzz target for the virtio-mmio register file: the input is a sequence of 6-byte accesses
 * (byte 0: bit 0 write, bits 1-2 size 1/2/4/8; byte 1: offset / 2 so 0..0x1fe, config space
 * included; bytes 2-5: the value, little-endian), in any order. Oracle: no access throws, every
 * read is a u32 that fits the access size, the transport closes cleanly.
 */
export function mmioTransportTarget(data: Uint8Array): void {
  const t = new VirtioMmioTransport(new NullDevice(), {
    memory: { regions: [{ guestPhysAddr: 0, size: 0x10_0000, fd: 7, fdOffset: 0, hostAddr: 0x7f00_0000_0000n }] },
    queueEventFds: (i) => ({ kickFd: 100 + i, callFd: 200 + i }),
  });
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at + 6 <= data.length; at += 6) {
    const op = data[at]!;
    const size = SIZES[(op >> 1) & 3]!;
    const offset = data[at + 1]! * 2;
    if ((op & 1) !== 0) {
      t.write(offset, size, v.getUint32(at + 2, true));
    } else {
      const got = t.read(offset, size);
      const max = size >= 4 ? 0xffff_ffff : 2 ** (8 * size) - 1;
      if (!Number.isInteger(got) || got < 0 || got > max) throw new FuzzOracleError(`read(0x${offset.toString(16)}, ${size}) returned ${got}`);
    }
  }
  const status = t.deviceStatus;
  if (!Number.isInteger(status) || status < 0 || status > 0xff) throw new FuzzOracleError(`status ${status} is not a byte`);
  t.close();
}
