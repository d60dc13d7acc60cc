import { accessSync, constants } from 'node:fs';
import type { NetDeviceState } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { EventFd } from '@vnic/sys';
import { VirtioNetTapDevice } from '@vnic/virtio-net';
import type { Bench } from './Bench.ts';
import { benchNicConfig } from './benchNicConfig.ts';
import { makeBenchRow } from './makeBenchRow.ts';

const BENCH = 'state';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x5b, 0x7e, 0x01);

/**
 * `vnic bench state`: how long a running in-process (virtio-net) NIC takes to hand its state over.
 * `save-ms`: saveState() on a running device (quiesce: every IO thread stopped at a consistent
 * point, plus the snapshot); `restore-ms`: restoreState() on a freshly opened device on another tap
 * (checks, control state, the IO threads started on the saved rings). Each is the median of the
 * rounds; there is no reference (no other VMM library does this), so `reference` is null.
 */
export const stateBench: Bench = {
  name: BENCH,
  description: 'device state hand-over of a running virtio-net NIC: save-ms, restore-ms (median of rounds)',

  unavailable() {
    if (process.getuid?.() !== 0) return Promise.resolve('not running as root (taps need CAP_NET_ADMIN)');
    try {
      accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    } catch {
      return Promise.resolve('/dev/net/tun is missing or not accessible');
    }
    return Promise.resolve(undefined);
  },

  async run(ctx) {
    const rounds = Math.max(5, Math.round((ctx.seconds ?? 1) * 10));
    const open = (i: number): VirtioNetTapDevice =>
      VirtioNetTapDevice.open(benchNicConfig('bst0', 'virtio-net', MAC, { tap: `vnbst${process.pid % 10000}x${i}` }));
    const first = open(0);
    const driver = await VirtioNetDriver.create({ device: first });
    const devices: VirtioNetTapDevice[] = [first];
    const fds: EventFd[] = [];
    const save: number[] = [];
    const restore: number[] = [];
    try {
      ctx.progress(`state: ${rounds} hand-overs of a running NIC between taps`);
      let cur: VirtioNetTapDevice = first;
      for (let i = 1; i <= rounds; i++) {
        const t0 = performance.now();
        const state: NetDeviceState = await cur.saveState();
        save.push(performance.now() - t0);
        const next = open(i);
        devices.push(next);
        const queues = state.queues.map((q) => {
          const kick = EventFd.create({ nonBlocking: true });
          const call = EventFd.create({ nonBlocking: true });
          fds.push(kick, call);
          return { index: q.index, kickFd: kick.fd, callFd: call.fd };
        });
        const t1 = performance.now();
        await next.restoreState(state, { memory: driver.guestMemory!.layout, queues });
        restore.push(performance.now() - t1);
        if (cur !== first) await cur.close();
        cur = next;
      }
    } finally {
      await driver.close();
      for (const d of devices) await d.close();
      for (const f of fds) f.close();
    }
    const note = `median of ${rounds} rounds, 1 queue pair of 256 + control queue; no reference`;
    ctx.row(makeBenchRow(BENCH, 'save-ms', 'ms', round3(median(save)), null, { note, noLoad: 'a hand-over time' }));
    ctx.row(makeBenchRow(BENCH, 'restore-ms', 'ms', round3(median(restore)), null, { note, noLoad: 'a hand-over time' }));
  },
};

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
