import { describe, expect, it } from 'vitest';
import type { ActivateContext } from '../device/ActivateContext.ts';
import type { QueueContext } from '../device/QueueContext.ts';
import { VnicError } from '../errors/VnicError.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import type { VhostControlPlane } from './VhostControlPlane.ts';
import type { VhostVringAddr } from './VhostVringAddr.ts';
import { programVhostVrings, stopVhostVrings, usedIndex, vhostBackendMask } from './VhostVrings.ts';

const LAYOUT: GuestMemoryLayout = { regions: [{ guestPhysAddr: 0x1000, size: 0x8000, fd: 5, fdOffset: 0, hostAddr: 0x7f00_0000_0000n }] };

/** Records every control-plane call as a line; getVringBase answers from `bases` (or fails). */
class Recorder implements VhostControlPlane {
  readonly log: string[] = [];
  bases = new Map<number, number>();
  failBase = false;
  async setOwner(): Promise<void> {}
  async resetOwner(): Promise<void> {}
  async getFeatures(): Promise<bigint> {
    return 0n;
  }
  async setFeatures(f: bigint): Promise<void> {
    this.log.push(`features 0x${f.toString(16)}`);
  }
  async setMemTable(m: GuestMemoryLayout): Promise<void> {
    this.log.push(`mem ${m.regions.length}`);
  }
  async setVringNum(i: number, n: number): Promise<void> {
    this.log.push(`num ${i} ${n}`);
  }
  async setVringAddr(i: number, a: VhostVringAddr): Promise<void> {
    this.log.push(`addr ${i} 0x${a.descUserAddr.toString(16)} 0x${a.availUserAddr.toString(16)} 0x${a.usedUserAddr.toString(16)}`);
  }
  async setVringBase(i: number, b: number): Promise<void> {
    this.log.push(`base ${i} ${b}`);
  }
  async getVringBase(i: number): Promise<number> {
    this.log.push(`get-base ${i}`);
    if (this.failBase) throw new VnicError('backend', 'gone');
    return this.bases.get(i) ?? 0;
  }
  async setVringKick(i: number, fd: number): Promise<void> {
    this.log.push(`kick ${i} ${fd}`);
  }
  async setVringCall(i: number, fd: number): Promise<void> {
    this.log.push(`call ${i} ${fd}`);
  }
  async setVringErr(i: number, fd: number): Promise<void> {
    this.log.push(`err ${i} ${fd}`);
  }
}

const q0: QueueContext = {
  index: 0,
  size: 16,
  descTable: 0x2000,
  availRing: 0x2100,
  usedRing: 0x2200,
  kickFd: 10,
  callFd: 20,
  state: { nextAvail: 7, nextUsed: 7 },
};
const q1: QueueContext = { index: 1, size: 16, descTable: 0x3000, availRing: 0x3100, usedRing: 0x3200, kickFd: 11, callFd: 21 };
const CTX: ActivateContext = { features: 0x1_0000_0000n, memory: LAYOUT, queues: [q0, q1] };

describe('programVhostVrings', () => {
  it('sends features, the memory table, then NUM/BASE/ADDR/KICK/CALL per ring with host addresses', async () => {
    const r = new Recorder();
    await programVhostVrings(r, CTX, {
      features: 0x1_0000_0000n,
      afterFeatures: async () => void r.log.push('status'),
      afterRing: async (q) => void r.log.push(`after ${q.index}`),
    });
    expect(r.log).toEqual([
      'features 0x100000000',
      'status',
      'mem 1',
      'num 0 16',
      'base 0 7',
      'addr 0 0x7f0000001000 0x7f0000001100 0x7f0000001200',
      'kick 0 10',
      'call 0 20',
      'after 0',
      'num 1 16',
      'base 1 0',
      'addr 1 0x7f0000002000 0x7f0000002100 0x7f0000002200',
      'kick 1 11',
      'call 1 21',
      'after 1',
    ]);
  });

  it('restarts from a base the caller picks (the used index on reconnection)', async () => {
    const r = new Recorder();
    await programVhostVrings(r, CTX, { features: 0n, base: (q) => 100 + q.index });
    expect(r.log.filter((l) => l.startsWith('base'))).toEqual(['base 0 100', 'base 1 101']);
  });

  it('checks every ring address before the backend sees anything', async () => {
    const r = new Recorder();
    const bad = { ...CTX, queues: [q0, { ...q1, usedRing: 0x9000 }] };
    await expect(programVhostVrings(r, bad, { features: 0n })).rejects.toThrow(/used ring at 0x9000 .* outside guest memory/);
    expect(r.log).toEqual([]);
  });
});

describe('stopVhostVrings', () => {
  const mem = new GuestMemory([{ guestPhysAddr: 0x1000, bytes: new Uint8Array(0x8000) }]);
  mem.write(0x2202, Uint8Array.of(0x34, 0x12)); // used->idx of ring 0 = 0x1234
  mem.write(0x3202, Uint8Array.of(5, 0));

  it('reads next-avail from the backend (16 bits) and next-used from guest memory', async () => {
    const r = new Recorder();
    r.bases = new Map([
      [0, 0x1_1240],
      [1, 9],
    ]);
    expect(await stopVhostVrings(r, mem, [q0, q1], () => undefined)).toEqual([
      { nextAvail: 0x1240, nextUsed: 0x1234 },
      { nextAvail: 9, nextUsed: 5 },
    ]);
  });

  it('resumes from the used index when the backend fails or is gone, asking no more after a failure', async () => {
    const r = new Recorder();
    r.failBase = true;
    const failed: number[] = [];
    expect(await stopVhostVrings(r, mem, [q0, q1], (q) => failed.push(q.index))).toEqual([
      { nextAvail: 0x1234, nextUsed: 0x1234 },
      { nextAvail: 5, nextUsed: 5 },
    ]);
    expect(failed).toEqual([0]);
    expect(r.log).toEqual(['get-base 0']);
    expect(await stopVhostVrings(undefined, mem, [q1], () => undefined)).toEqual([{ nextAvail: 5, nextUsed: 5 }]);
  });

  it('usedIndex reads 0 for a ring outside memory', () => {
    expect(usedIndex(mem, { ...q0, usedRing: 0x20000 })).toBe(0);
  });
});

describe('vhostBackendMask', () => {
  it('takes the backend offer for the ring features and leaves every other bit set', () => {
    expect(vhostBackendMask(0b0101n, 0b0011n)).toBe(((1n << 64n) - 1n) & ~0b0010n);
  });
});
