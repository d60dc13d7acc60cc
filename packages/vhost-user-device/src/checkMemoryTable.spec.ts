import { describe, expect, it } from 'vitest';
import { checkMemoryTable } from './checkMemoryTable.ts';
import { validateVhostUserDeviceOptions } from './validateVhostUserDeviceOptions.ts';
import { vhostUserDeviceFeatures } from './vhostUserDeviceFeatures.ts';

const r = (gpa: bigint, size: bigint, user: bigint, off = 0n) => ({ guestPhysAddr: gpa, memorySize: size, userspaceAddr: user, mmapOffset: off });
const MiB = 1n << 20n;

describe('checkMemoryTable', () => {
  it('accepts disjoint regions inside their files', () => {
    expect(checkMemoryTable([r(0n, MiB, 0x7000_0000n), r(0x1_0000_0000n, MiB, 0x9000_0000n, MiB)], [MiB, 2n * MiB])).toBeUndefined();
  });
  it('rejects overlap in either address space, empty and too-small regions, wrap-around, fd count', () => {
    expect(checkMemoryTable([r(0n, MiB, 0n), r(MiB - 1n, MiB, 4n * MiB)], [MiB, MiB])).toMatch(/region 1 .* overlaps region 0 .* guest-physical/);
    expect(checkMemoryTable([r(0n, MiB, 0n), r(4n * MiB, MiB, MiB - 1n)], [MiB, MiB])).toMatch(/frontend virtual space/);
    expect(checkMemoryTable([r(0n, 0n, 0n)], [MiB])).toMatch(/memory_size is 0/);
    expect(checkMemoryTable([r(0n, MiB, 0n, 1n)], [MiB])).toMatch(
      /too small: its fd holds 1048576 bytes, the region needs mmap_offset \+ memory_size = 1048577/,
    );
    expect(checkMemoryTable([r(0n, MiB, (1n << 64n) - 4096n)], [MiB])).toMatch(/wraps around 2\^64/);
    expect(checkMemoryTable([r(1n << 53n, MiB, 0n)], [MiB])).toMatch(/above 2\^53/);
    expect(checkMemoryTable([r(0n, MiB, 0n)], [])).toMatch(/1 region\(s\) but 0 fd\(s\)/);
  });
  it('adjacent regions do not overlap', () => {
    expect(checkMemoryTable([r(0n, MiB, 0n), r(MiB, MiB, MiB)], [MiB, MiB])).toBeUndefined();
  });
});

describe('validateVhostUserDeviceOptions', () => {
  it('names each bad field', () => {
    expect(validateVhostUserDeviceOptions({ socket: '/tmp/x.sock', tap: 'vnic0' })).toEqual([]);
    const paths = validateVhostUserDeviceOptions({ socket: '', queuePairs: 0, tap: 'bad name', client: 'yes', extra: 1 }).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['socket', 'queuePairs', 'tap', 'client', 'extra']));
    expect(
      validateVhostUserDeviceOptions({ socket: '/x', queuePairs: 2, tapFds: [5] })
        .map((i) => i.message)
        .join(),
    ).toMatch(/one per queue pair \(2\)/);
  });
});

describe('vhostUserDeviceFeatures', () => {
  it('offers the ring features, PROTOCOL_FEATURES, MQ only with more than one pair, no control-queue features', () => {
    const one = vhostUserDeviceFeatures(0, 1);
    for (const bit of [32, 30, 29, 28, 15, 0]) expect((one >> BigInt(bit)) & 1n).toBe(1n);
    expect((one >> 22n) & 1n).toBe(0n); // MQ
    expect((vhostUserDeviceFeatures(0, 2) >> 22n) & 1n).toBe(1n);
    for (const bit of [5, 16, 17, 3]) expect((one >> BigInt(bit)) & 1n).toBe(0n); // MAC, STATUS, CTRL_VQ, MTU
    expect((one >> 1n) & 1n).toBe(0n); // GUEST_CSUM needs TUN_F_CSUM
    expect((vhostUserDeviceFeatures(1, 1) >> 1n) & 1n).toBe(1n);
  });
});

describe('describeFeatures', () => {
  it('names bits as the specs do', async () => {
    const { describeFeatures, describeProtocolFeatures } = await import('./describeFeatures.ts');
    expect(describeFeatures(0x150008000n)).toBe('MRG_RXBUF INDIRECT_DESC PROTOCOL_FEATURES VERSION_1');
    expect(describeProtocolFeatures(0x9n)).toBe('MQ REPLY_ACK');
  });
});
