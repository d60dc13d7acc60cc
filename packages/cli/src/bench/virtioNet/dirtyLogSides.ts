import type { VirtioNetDevice } from '@vnic/core';
import type { VirtioNetDriver } from '@vnic/driver';
import { MemfdDirtyLog } from '@vnic/sys';
import type { Cleanup } from '../../demo/Cleanup.ts';

/** One side of a bench comparison (virtioNetBench's `Side`): one window per call, a note at the end. */
interface BenchSide<W> {
  window(): Promise<W>;
  finish(): Promise<string>;
}

/**
 * The two sides of a dirty-log row from ONE vnic NIC: `vnic` runs each window with dirty logging
 * on (a memfd log as a migrating VMM gives it, started before the window's warm-up and stopped
 * after it, the pages taken as a VMM's copy pass would), `ref` runs the same NIC's windows with
 * logging off. Alternated by the bench's compare(), both see the same machine phases; the ratio
 * is what logging costs the data plane.
 */
export function dirtyLogSides<W>(
  nic: BenchSide<W> & { readonly device: VirtioNetDevice; readonly driver: VirtioNetDriver },
  local: Cleanup,
): { vnic: BenchSide<W>; ref: BenchSide<W> } {
  let end = 0;
  for (const r of nic.driver.memory.regions) end = Math.max(end, r.guestPhysAddr + r.size);
  const m = MemfdDirtyLog.create(end, 'vnic-bench-dirty-log');
  local.add('bench dirty log unmapped', async () => {
    await nic.device.stopDirtyLog();
    m.close();
  });
  let windows = 0;
  let pages = 0;
  return {
    vnic: {
      window: async () => {
        await nic.device.startDirtyLog(m.log);
        try {
          return await nic.window();
        } finally {
          await nic.device.stopDirtyLog();
          pages += m.log.takeDirtyPages().length;
          windows++;
        }
      },
      finish: async () => `dirty log on (memfd, ${m.size} bytes): ${pages} pages logged over ${windows} windows; ${await nic.finish()}`,
    },
    ref: {
      window: () => nic.window(),
      finish: async () => 'the same NIC with dirty logging off',
    },
  };
}
