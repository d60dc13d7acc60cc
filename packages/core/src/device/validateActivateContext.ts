import { hasFeature } from '../defs/virtio.ts';
import { VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_MQ } from '../defs/virtio_net.ts';
import type { ActivateContext } from './ActivateContext.ts';

/** The device limits an ActivateContext is checked against. */
export interface ActivateLimits {
  /** Features the driver acked (the context must carry exactly these). */
  readonly acked: bigint;
  /** Queue pairs the device offers (used when MQ is acked). */
  readonly queuePairs: number;
  /** Largest queue size the driver may choose. */
  readonly queueMaxSize: number;
}

/**
 * Checks an ActivateContext against the acked features and the device limits before a backend
 * sees it: features equal to the acked ones, at least one memory region, queue indices in
 * increasing order inside 0..(2N [+1 ctrl]), power-of-two sizes up to the maximum, every ring
 * aligned and wholly inside one region (overflow-safe), integer eventfds. Returns the first
 * problem as a sentence naming the queue and the field, or undefined when the context is good.
 * Pure: no I/O, no state.
 */
export function validateActivateContext(ctx: ActivateContext, limits: ActivateLimits): string | undefined {
  const { acked } = limits;
  if (ctx.features !== acked) {
    return `features 0x${ctx.features.toString(16)} differ from the acked features 0x${acked.toString(16)}`;
  }
  const regions = ctx.memory?.regions;
  if (!Array.isArray(regions) || regions.length === 0) return 'guest memory layout has no regions';
  const pairs = hasFeature(acked, VIRTIO_NET_F_MQ) ? limits.queuePairs : 1;
  const maxQueues = 2 * pairs + (hasFeature(acked, VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
  if (!isArray(ctx.queues) || ctx.queues.length === 0) return 'no queue is enabled';
  if (ctx.queues.length > maxQueues) return `${ctx.queues.length} queues, at most ${maxQueues} with the acked features`;
  let prev = -1;
  for (const q of ctx.queues) {
    const where = `queue ${q.index}`;
    if (!Number.isInteger(q.index) || q.index < 0 || q.index >= maxQueues) return `${where}: index outside 0..${maxQueues - 1}`;
    if (q.index <= prev) return `${where}: queues must be in increasing index order without duplicates`;
    prev = q.index;
    if (!Number.isInteger(q.size) || q.size < 1 || q.size > limits.queueMaxSize || (q.size & (q.size - 1)) !== 0) {
      return `${where}: size ${q.size} is not a power of two between 1 and ${limits.queueMaxSize}`;
    }
    const ring =
      ringProblem(regions, 'descriptor table', q.descTable, 16 * q.size, 16) ??
      ringProblem(regions, 'available ring', q.availRing, 6 + 2 * q.size, 2) ??
      ringProblem(regions, 'used ring', q.usedRing, 6 + 8 * q.size, 4);
    if (ring !== undefined) return `${where}: ${ring}`;
    if (!Number.isInteger(q.kickFd) || !Number.isInteger(q.callFd)) return `${where}: kickFd/callFd must be integers`;
  }
  return undefined;
}

/** Array.isArray that keeps the element type (the built-in narrows a readonly array to any[]). */
function isArray<T>(v: readonly T[]): v is readonly T[] {
  return Array.isArray(v);
}

function ringProblem(regions: ActivateContext['memory']['regions'], what: string, addr: number, bytes: number, align: number): string | undefined {
  if (!Number.isSafeInteger(addr) || addr < 0) return `${what} address ${addr} is not a valid guest-physical address`;
  if (addr % align !== 0) return `${what} at 0x${addr.toString(16)} is not ${align}-byte aligned`;
  const inside = regions.some((r) => addr >= r.guestPhysAddr && addr - r.guestPhysAddr <= r.size - bytes);
  if (!inside) return `${what} at 0x${addr.toString(16)} (+${bytes}) is outside guest memory`;
  return undefined;
}
