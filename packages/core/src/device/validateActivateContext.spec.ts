import { describe, expect, it } from 'vitest';
import { featureBit, VIRTIO_F_VERSION_1 } from '../defs/virtio.ts';
import * as N from '../defs/virtio_net.ts';
import type { ActivateContext } from './ActivateContext.ts';
import type { QueueContext } from './QueueContext.ts';
import { validateActivateContext, type ActivateLimits } from './validateActivateContext.ts';

const BASE = 0x1_0000;
const ACKED = featureBit(VIRTIO_F_VERSION_1) | featureBit(N.VIRTIO_NET_F_MQ) | featureBit(N.VIRTIO_NET_F_CTRL_VQ);
const LIMITS: ActivateLimits = { acked: ACKED, queuePairs: 2, queueMaxSize: 256 };

// Rings of a 64-entry queue at fixed, hand-computed offsets: desc 1 KiB, avail 134 B, used 518 B.
function q(index: number, over: Partial<QueueContext> = {}): QueueContext {
  const at = BASE + 0x1000 * index;
  return { index, size: 64, descTable: at, availRing: at + 0x400, usedRing: at + 0x600, kickFd: 3, callFd: 4, ...over };
}

function ctx(queues: QueueContext[], over: Partial<ActivateContext> = {}): ActivateContext {
  return { features: ACKED, memory: { regions: [{ guestPhysAddr: BASE, size: 0x10000, fd: -1, fdOffset: 0, hostAddr: 0n }] }, queues, ...over };
}

describe('validateActivateContext', () => {
  it('accepts data queues plus the control queue at 2N', () => {
    expect(validateActivateContext(ctx([q(0), q(1), q(2), q(3), q(4)]), LIMITS)).toBeUndefined();
  });

  it.each<[string, ActivateContext, string]>([
    [
      'features that differ from the acked ones',
      ctx([q(0)], { features: featureBit(VIRTIO_F_VERSION_1) }),
      'features 0x100000000 differ from the acked features 0x100420000',
    ],
    ['no memory region', ctx([q(0)], { memory: { regions: [] } }), 'guest memory layout has no regions'],
    ['no queue', ctx([]), 'no queue is enabled'],
    ['more queues than 2N+1', ctx([0, 1, 2, 3, 4, 5].map((i) => q(i % 5))), '6 queues, at most 5 with the acked features'],
    ['an index past the control queue', ctx([q(5)]), 'queue 5: index outside 0..4'],
    ['indices out of order', ctx([q(1), q(0)]), 'queue 0: queues must be in increasing index order without duplicates'],
    ['a size that is not a power of two', ctx([q(0, { size: 48 })]), 'queue 0: size 48 is not a power of two between 1 and 256'],
    ['a size above the maximum', ctx([q(0, { size: 512 })]), 'queue 0: size 512 is not a power of two between 1 and 256'],
    ['a misaligned descriptor table', ctx([q(0, { descTable: BASE + 8 })]), 'queue 0: descriptor table at 0x10008 is not 16-byte aligned'],
    ['a used ring ending past the region', ctx([q(0, { usedRing: BASE + 0x10000 - 0x200 })]), 'queue 0: used ring at 0x1fe00 (+518) is outside guest memory'],
    ['a negative address', ctx([q(0, { availRing: -2 })]), 'queue 0: available ring address -2 is not a valid guest-physical address'],
    ['a fractional eventfd', ctx([q(0, { kickFd: 1.5 })]), 'queue 0: kickFd/callFd must be integers'],
  ])('refuses %s, naming the field', (_what, c, message) => {
    expect(validateActivateContext(c, LIMITS)).toBe(message);
  });

  it('allows only rx0, tx0 and the control queue at 2 without MQ', () => {
    const limits = { ...LIMITS, acked: ACKED & ~featureBit(N.VIRTIO_NET_F_MQ) };
    expect(validateActivateContext(ctx([q(0), q(1), q(2)], { features: limits.acked }), limits)).toBeUndefined();
    expect(validateActivateContext(ctx([q(3)], { features: limits.acked }), limits)).toBe('queue 3: index outside 0..2');
  });

  it('a ring address near 2^53 cannot wrap into the region', () => {
    expect(validateActivateContext(ctx([q(0, { usedRing: Number.MAX_SAFE_INTEGER - 3 })]), LIMITS)).toMatch(
      /used ring at 0x1ffffffffffffc .* outside guest memory/,
    );
  });
});
