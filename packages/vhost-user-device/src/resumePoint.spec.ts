import { describe, expect, it } from 'vitest';
import { resumePoint } from './resumePoint.ts';
import type { VhostUserDeviceQueueState } from './VhostUserDeviceState.ts';
import type { Vring } from './VringTable.ts';

const saved: VhostUserDeviceQueueState = {
  index: 0,
  size: 256,
  enabled: true,
  descUserAddr: '0x7f0000000000',
  availUserAddr: '0x7f0000001000',
  usedUserAddr: '0x7f0000002000',
  nextAvail: 1234,
  nextUsed: 1234,
  counters: { packets: 1234, bytes: 79_000, drops: 0, malformed: 0, noBuffer: 3, filtered: 0 },
};

function ring(base: number, over: Partial<Vring> = {}): Vring {
  return {
    num: 256,
    base,
    addr: { flags: 0, descUserAddr: 0x7f00_0000_0000n, availUserAddr: 0x7f00_0000_1000n, usedUserAddr: 0x7f00_0000_2000n, logGuestAddr: 0n },
    kick: 5,
    call: 6,
    ownCall: false,
    enabled: true,
    started: true,
    ...over,
  };
}

describe('resumePoint: where a taken-over ring starts', () => {
  it('a frontend that sends the saved base (QEMU) is agreed with', () => {
    expect(resumePoint(saved, ring(1234), 1234)).toMatchObject({ nextAvail: 1234, from: 'agreed' });
  });

  it('a frontend that sends base 0 on a ring still where the state left it (DPDK virtio_user reconnecting) resumes at the saved index', () => {
    const p = resumePoint(saved, ring(0), 1234);
    expect(p).toMatchObject({ nextAvail: 1234, from: 'state' });
    expect(p.why).toMatch(/the frontend said base 0, but the ring in memory is where the state left it \(used idx 1234\)/);
  });

  it('a ring whose used index moved on since the save (the frontend reset it) keeps the frontend base', () => {
    expect(resumePoint(saved, ring(0), 0)).toMatchObject({ nextAvail: 0, from: 'frontend' });
  });

  it('a ring set up at other addresses or another size is a new ring: the frontend base stands', () => {
    const moved = ring(0, {
      addr: { flags: 0, descUserAddr: 0x7f00_0001_0000n, availUserAddr: 0x7f00_0000_1000n, usedUserAddr: 0x7f00_0000_2000n, logGuestAddr: 0n },
    });
    expect(resumePoint(saved, moved, 1234)).toMatchObject({ nextAvail: 0, from: 'frontend' });
    expect(resumePoint(saved, ring(0, { num: 512 }), 1234)).toMatchObject({ nextAvail: 0, from: 'frontend' });
  });
});
