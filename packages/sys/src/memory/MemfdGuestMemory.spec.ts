import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VnicError } from '@vnic/core';
import type { GuestMemoryLayout } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { fdCount } from '../testing/fdCount.ts';
import { guestMemoryFromLayout } from './guestMemoryFromLayout.ts';
import { mapGuestMemory } from './mapGuestMemory.ts';
import { MemfdGuestMemory } from './MemfdGuestMemory.ts';

const REGIONS = [
  { guestPhysAddr: 0, size: 64 * 1024 },
  { guestPhysAddr: 0x10_0000, size: 128 * 1024 },
];

/** Worker source that registers tsx (Node 20 ignores `--import` in a Worker's execArgv), then loads the TS entry. */
function tsWorkerBootstrap(entry: URL): string {
  // The ESM build of tsx's API (its CJS build cannot register the ESM hooks from an eval'd worker).
  const tsx = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
}

function pattern(len: number, seed: number): Uint8Array {
  return new Uint8Array(len).map((_, i) => (i * 31 + seed) & 0xff);
}

describe('MemfdGuestMemory', () => {
  it('creates one memfd per region, mapped shared, with a layout that describes it', () => {
    const mem = MemfdGuestMemory.create({ regions: REGIONS, name: 'vnic-test' });
    try {
      const { regions } = mem.layout;
      expect(regions).toHaveLength(2);
      for (const [i, r] of regions.entries()) {
        expect(r.guestPhysAddr).toBe(REGIONS[i]!.guestPhysAddr);
        expect(r.size).toBe(REGIONS[i]!.size);
        expect(r.fdOffset).toBe(0);
        expect(typeof r.hostAddr).toBe('bigint');
        expect(r.hostAddr % 4096n).toBe(0n);
        expect(fdCount.isOpen(r.fd)).toBe(true);
      }
      expect(regions[0]!.fd).not.toBe(regions[1]!.fd);
      expect(mem.memory.size).toBe(192 * 1024);
      expect(mem.memory.hostAddress(0x10_0010, 4)).toBe(Number(regions[1]!.hostAddr) + 0x10);
      expect(mem.memory.checkRange(0x10_0000 + 128 * 1024 - 1, 2)).toBe(false);
    } finally {
      mem.close();
    }
  });

  it('bytes written through .memory read back through a second mapping of the same fds (and back)', () => {
    const mem = MemfdGuestMemory.create({ regions: REGIONS });
    try {
      const a = pattern(4096, 1);
      const b = pattern(1000, 2);
      expect(mem.memory.write(0x800, a)).toBe(true);
      expect(mem.memory.write(0x10_0000 + 0x1_0000, b)).toBe(true);
      const mapped = mapGuestMemory(mem.layout);
      try {
        expect(mapped.memory.regions[0]!.hostAddr).not.toBe(mem.memory.regions[0]!.hostAddr);
        // The layout names this mapping: a device activated with it in this process reads the same bytes.
        expect(mapped.layout.regions.map((r) => r.hostAddr)).toEqual(mapped.memory.regions.map((r) => BigInt(r.hostAddr)));
        expect(mapped.layout.regions.map((r) => [r.guestPhysAddr, r.size, r.fd, r.fdOffset])).toEqual(
          mem.layout.regions.map((r) => [r.guestPhysAddr, r.size, r.fd, r.fdOffset]),
        );
        expect(guestMemoryFromLayout(mapped.layout).read(0x800, 4096)).toEqual(a);
        expect(mapped.memory.read(0x800, 4096)).toEqual(a);
        expect(mapped.memory.read(0x10_0000 + 0x1_0000, 1000)).toEqual(b);
        mapped.memory.write(0x10, new Uint8Array([0xde, 0xad]));
        expect([...mem.memory.read(0x10, 2)!]).toEqual([0xde, 0xad]);
      } finally {
        mapped.close();
        mapped.close();
      }
    } finally {
      mem.close();
    }
  });

  it('maps a region at an fd offset that is not page aligned', () => {
    const mem = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0, size: 3 * 4096 }] });
    try {
      const data = pattern(3 * 4096, 7);
      mem.memory.write(0, data);
      const fd = mem.layout.regions[0]!.fd;
      const layout: GuestMemoryLayout = { regions: [{ guestPhysAddr: 0x4000_0000, size: 5000, fd, fdOffset: 4096 + 100, hostAddr: 0n }] };
      const mapped = mapGuestMemory(layout);
      try {
        expect(mapped.memory.read(0x4000_0000, 5000)).toEqual(data.subarray(4196, 9196));
        expect(mapped.memory.hostAddress(0x4000_0000, 1)! % 4096).toBe(100);
      } finally {
        mapped.close();
      }
    } finally {
      mem.close();
    }
  });

  it('guestMemoryFromLayout views the same mapping in this process', () => {
    const mem = MemfdGuestMemory.create({ regions: REGIONS });
    try {
      const view = guestMemoryFromLayout(mem.layout);
      view.write(0x10_0100, new Uint8Array([1, 2, 3]));
      expect([...mem.memory.read(0x10_0100, 3)!]).toEqual([1, 2, 3]);
      expect(view.regions[1]!.hostAddr).toBe(Number(mem.layout.regions[1]!.hostAddr));
    } finally {
      mem.close();
    }
  });

  it('a worker_thread rebuilds guest memory from the layout and shares its bytes', async () => {
    const mem = MemfdGuestMemory.create({ regions: REGIONS });
    try {
      const data = pattern(64, 9);
      mem.memory.write(0x10_2000, data);
      const worker = new Worker(tsWorkerBootstrap(new URL('./fixtures/guestMemoryWorker.ts', import.meta.url)), {
        eval: true,
        workerData: { layout: mem.layout, gpa: 0x10_2000, len: 64, marker: 0x5a },
      });
      try {
        const reply = await new Promise<{ seen: number[] | null; size: number }>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        expect(reply.size).toBe(mem.memory.size);
        expect(reply.seen).toEqual([...data]);
        expect(mem.memory.read(0x10_2000 + 64, 1)![0]).toBe(0x5a);
      } finally {
        await worker.terminate();
      }
    } finally {
      mem.close();
    }
  });

  it('close unmaps and closes every fd, once', () => {
    const mem = MemfdGuestMemory.create({ regions: REGIONS, name: 'vnic-close-test' });
    const fds = mem.layout.regions.map((r) => r.fd);
    expect(fdCount.memfdMappings('vnic-close-test')).toBe(2);
    mem.close();
    mem.close();
    expect(mem.closed).toBe(true);
    for (const fd of fds) expect(fdCount.isOpen(fd)).toBe(false);
    expect(fdCount.memfdMappings('vnic-close-test')).toBe(0);
  });

  it('rejects bad regions without leaking fds or mappings', () => {
    const fdsBefore = fdCount.fds();
    const name = 'vnic-reject-test';
    expect(() => MemfdGuestMemory.create({ regions: [], name })).toThrow(VnicError);
    expect(() => MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0, size: 0 }], name })).toThrow(/size 0/);
    expect(() =>
      MemfdGuestMemory.create({
        name,
        regions: [
          { guestPhysAddr: 0, size: 8192 },
          { guestPhysAddr: 4096, size: 8192 },
        ],
      }),
    ).toThrow(/overlap/);
    expect(() => mapGuestMemory({ regions: [{ guestPhysAddr: 0, size: 4096, fd: -1, fdOffset: 0, hostAddr: 0n }] })).toThrow(/no fd/);
    expect(() => guestMemoryFromLayout({ regions: [{ guestPhysAddr: 0, size: 4096, fd: -1, fdOffset: 0, hostAddr: 0n }] })).toThrow(/address 0/);
    expect(fdCount.fds()).toBe(fdsBefore);
    expect(fdCount.memfdMappings(name)).toBe(0);
  });
});
