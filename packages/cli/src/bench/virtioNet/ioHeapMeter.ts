import type { VirtioNetDevice } from '@vnic/core';
import { VirtioNetTapDevice } from '@vnic/virtio-net';

/** Measures the V8 heap a bench NIC's IO thread allocates per frame, over the windows it wraps. */
export interface IoHeapMeter {
  /** Runs `window`, reading the IO thread's allocated bytes (IoHeapCounter) before and after; `frames` says how many frames it moved. */
  measure<T>(window: () => Promise<T>, frames: (out: T) => number): Promise<T>;
  /** The note: bytes allocated per frame over every measured window. */
  note(): string;
}

/**
 * An IoHeapMeter for `device` (the in-process backend's VirtioNetTapDevice; any other device is
 * not measured). Bytes per frame = (allocated after - allocated before) summed over the windows,
 * over the frames of those windows (warm-up included, like the CPU figures). The two reads are
 * `heap` requests to the IO thread, so they count what the thread did in between, nothing of the
 * main thread (the bench guest).
 */
export function ioHeapMeter(device: VirtioNetDevice): IoHeapMeter {
  const tap = device instanceof VirtioNetTapDevice ? device : undefined;
  let bytes = 0;
  let frames = 0;
  return {
    async measure(window, framesOf) {
      const a0 = await tap?.ioHeapAllocatedBytes();
      const out = await window();
      const a1 = await tap?.ioHeapAllocatedBytes();
      if (a0 !== undefined && a1 !== undefined) {
        bytes += a1 - a0;
        frames += framesOf(out);
      }
      return out;
    },
    note() {
      if (frames === 0) return 'IO thread heap not measured';
      return `IO thread heap ${(bytes / frames).toFixed(2)} B allocated per frame (${bytes} B over ${frames} frames: V8 used heap + GC-freed)`;
    },
  };
}
