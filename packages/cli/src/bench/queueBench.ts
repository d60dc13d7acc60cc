import type { Bench } from './Bench.ts';
import { makeBenchRow } from './makeBenchRow.ts';
import { queueLoop, type QueueLoopWindow } from './queue/queueLoop.ts';
import { summarizeRounds } from './virtioNet/summarizeRounds.ts';
import { wantsRow } from './wantsRow.ts';

const BENCH = 'queue';
/** The queue size of the virtio-net bench's NICs. */
const SIZE = 1024;
const ROUNDS = 7;
const round = (v: number): number => Number(v.toFixed(1));

/**
 * `vnic bench queue`: what a packed ring costs per frame against a split one, without a tap or a
 * second thread: the device's queue work as TxPath drives it (popInto, addUsedBatch, notification
 * decisions) and the bench guest's recycling, each in CPU nanoseconds per 64 B frame (queueLoop),
 * split and packed windows alternating (median of the rounds). The reference is the split ring.
 * Where `tx-64B-packed-mpps` and `tx-64B-mpps` of `vnic bench virtio-net` differ, this says how
 * much of it the ring layout is.
 */
export const queueBench: Bench = {
  name: BENCH,
  metrics: ['device-ns-per-frame-packed', 'guest-ns-per-frame-packed'],
  description: 'ring layout cost per frame, one thread, no I/O: packed vs split device queue work (popInto + addUsedBatch) and bench-guest recycling, ns/frame',

  run(ctx) {
    const ms = (ctx.seconds ?? 0.5) * 1000;
    ctx.progress(`queue: ${ROUNDS} rounds of ${ms} ms per layout, split and packed alternating (queue size ${SIZE})`);
    queueLoop('split', SIZE, ms); // warm-up: both layouts' code optimized before the first window
    queueLoop('packed', SIZE, ms);
    const split: QueueLoopWindow[] = [];
    const packed: QueueLoopWindow[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      split.push(queueLoop('split', SIZE, ms));
      packed.push(queueLoop('packed', SIZE, ms));
    }
    const side = (metric: string, what: string, pick: (w: QueueLoopWindow) => number): void => {
      if (!wantsRow(ctx, metric)) return;
      const p = summarizeRounds(packed.map(pick));
      const s = summarizeRounds(split.map(pick));
      const frames = (ws: readonly QueueLoopWindow[]): number => ws.reduce((a, w) => a + w.frames, 0);
      ctx.row(
        makeBenchRow(BENCH, metric, 'ns/frame', round(p.median), round(s.median), {
          referenceName: 'the same on a split ring',
          note: `${what}; median of ${ROUNDS} windows of ${ms} ms (packed ${round(p.min)}..${round(p.max)}, split ${round(s.min)}..${round(s.max)}); ${frames(packed)} and ${frames(split)} frames`,
          noLoad: 'a cost row, one thread',
        }),
      );
    };
    side('device-ns-per-frame-packed', 'device: popInto, addUsedBatch and notification decisions per 64-chain step (TxPath)', (w) => w.deviceNs);
    side('guest-ns-per-frame-packed', 'bench guest: RingRecycler / PackedRingRecycler pump', (w) => w.guestNs);
    return Promise.resolve();
  },
};
