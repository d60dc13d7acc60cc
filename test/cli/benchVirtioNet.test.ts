import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runCli, virtioNetBench, type BenchContext, type BenchRow } from '@vnic/cli';
import { defaultBackendModules } from '@vnic/config';
import { describe, expect, it } from 'vitest';
import { captureIo } from '../fixtures/captureIo.ts';
import { needsPeer } from '@vnic/sys/testing';

const nsList = (): string[] =>
  execFileSync('ip', ['netns', 'list'])
    .toString()
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n !== '');
const cDirs = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('vnic-bench-c-'));
const fds = (): number => readdirSync('/proc/self/fd').length;

// A small run: one round per side, 0.4 s windows, 2 NICs for the memory row.
const bench = virtioNetBench({ rounds: 1, warmupSeconds: 0.2, rssNics: 2 });
const { reason, skip } = needsPeer('virtio-net bench run', await bench.unavailable?.());

describe('vnic bench virtio-net', () => {
  it('is registered: an unknown bench name lists it', async () => {
    const io = captureIo(() => defaultBackendModules());
    expect(await runCli(['bench', 'no-such-bench'], io)).toBe(2);
    expect(io.stderr).toMatch(/no bench named "no-such-bench"; known: .*virtio-net/);
  });

  it('--rows: a name the bench has no row for is refused before anything runs, the rows listed', async () => {
    const io = captureIo(() => defaultBackendModules());
    expect(await runCli(['bench', 'virtio-net', '--rows', 'tx-64B-mpps,tx-64B-pakced-mpps'], io)).toBe(2);
    expect(io.stderr).toMatch(/no row named "tx-64B-pakced-mpps"; its rows: rss-per-nic-mib, .*tx-64B-packed-mpps, /);
    expect(await runCli(['bench', 'virtio-net', '--rows', 'tx-64B-mpps,'], io)).not.toBe(0);
    expect(io.stderr).toMatch(/--rows takes metric names separated by commas/);
  });

  it.skipIf(skip)(
    '--rows tx-64B-mpps,tx-64B-packed-mpps: only the split and packed TX rows are measured, in the same run',
    async () => {
      if (reason !== undefined) throw new Error(`the bench cannot run here: ${reason}`);
      const io = captureIo(() => defaultBackendModules());
      const rows: BenchRow[] = [];
      const progress: string[] = [];
      const rowsWanted = new Set(['tx-64B-packed-mpps', 'tx-64B-mpps']);
      await bench.run({ io, json: true, seconds: 0.4, rows: rowsWanted, progress: (t) => progress.push(t), row: (r) => rows.push(r) });
      expect(rows.map((r) => r.metric)).toEqual(['tx-64B-mpps', 'tx-64B-packed-mpps']);
      for (const r of rows) expect(r.vnic).toBeGreaterThan(0);
      // Nothing else ran: no progress line of another measurement.
      expect(progress.filter((p) => /RX 64 B|NICs|RTT|1514|dirty/.test(p))).toEqual([]);
    },
    30_000,
  );

  it.skipIf(skip)(
    'measures vnic and the C references in one run: the rows, positive rates, load checks, answered round trips, nothing left behind',
    async () => {
      if (reason !== undefined) throw new Error(`the bench cannot run here: ${reason}`);
      const io = captureIo(() => defaultBackendModules());
      const rows: BenchRow[] = [];
      const progress: string[] = [];
      const nsBefore = nsList();
      const dirsBefore = cDirs();
      const fdsBefore = fds();
      const ctx: BenchContext = { io, json: true, seconds: 0.4, progress: (t) => progress.push(t), row: (r) => rows.push(r) };
      await bench.run(ctx);

      expect(rows.map((r) => r.metric)).toEqual([
        'rss-per-nic-mib',
        'tx-64B-64nics-mpps',
        'rss-per-nic-dedicated-mib',
        'tx-64B-mpps',
        'tx-64B-sqpoll-mpps',
        'tx-64B-packed-mpps',
        'tx-64B-packed-vs-split-mpps',
        'tx-64B-dirtylog-mpps',
        'tx-1514B-gbps',
        'tx-1514B-sqpoll-gbps',
        'rx-64B-mpps',
        'rx-64B-dirtylog-mpps',
        'irq-per-frame-coalesced',
        'rtt-64B-p50-us',
        'rtt-64B-p99-us',
      ]);
      // The many-NIC rows (virtioNet/manyNicsRows.ts): 2 NICs here (rssNics), on shared threads and dedicated ones.
      const many = rows.splice(0, 3);
      expect(many[0]!.note).toMatch(/^2 NICs activated \(shared IO threads;/);
      expect(many[2]!.note).toMatch(/^2 NICs activated \(dedicated IO threads;/);
      expect(many[2]!.vnic).toBeGreaterThan(0);
      expect(many[1]!.unit).toBe('Mpps');
      expect(many[1]!.vnic).toBeGreaterThan(0);
      expect(many[1]!.reference).toBeGreaterThan(0);
      expect(many[1]!.note).toMatch(/NICs that sent nothing: 0;/);
      // Both windows (all NICs, one alone) carry the load check of their guests against the IO threads.
      expect(many[1]!.note).toMatch(
        /(headroom: 2 NICs source \d+% busy, device thread \d+%; one NIC source \d+% busy|^source-limited \((2 NICs|one NIC) source)/,
      );
      // Every row says what limited it, in --json too: the memory and round-trip rows have no load,
      // the rate rows were checked (device when every side had headroom), matching their notes.
      for (const r of [...many, ...rows]) {
        if (r.metric === 'irq-per-frame-coalesced') continue; // a paced count: limit `paced`, checked below
        const rate = r.unit !== 'MiB' && r.unit !== 'us';
        const expected = !rate ? 'no-load' : r.note!.startsWith('source-limited (') ? 'source-limited' : 'device';
        expect(r.limit, r.metric).toBe(expected);
        if (!rate) expect(r.note, r.metric).toMatch(/; no load to check: (a memory row|a closed loop, one request in flight)$/);
      }
      rows.unshift(many[0]!);
      // Notifications per received frame, coalesced at rx max_packets 32 (vnic) and not (reference):
      // counted from the call eventfd of a guest that wants every interrupt, frames paced one at a
      // time. About one per 32 frames when coalesced (the 20 ms timer flushes earlier only under a
      // source slowed below 1600 frames/s: bound 1/16), and at least 4x fewer than without.
      const irqAt = rows.findIndex((r) => r.metric === 'irq-per-frame-coalesced');
      const irq = rows.splice(irqAt, 1)[0]!;
      expect(irq.unit).toBe('notifications/frame');
      // Its source is paced on purpose: labelled so, never source-limited, what the check saw said.
      expect(irq.limit).toBe('paced');
      expect(irq.note).toMatch(
        /; paced load: RX source at 10000 frames\/s on purpose \(a count per frame, no headroom expected\); coalesced offered [\d.]+x the measured rate.*; not coalesced offered [\d.]+x/,
      );
      expect(irq.referenceName).toBe('the same NIC without coalescing');
      expect(irq.vnic).toBeGreaterThan(0);
      expect(irq.vnic).toBeLessThanOrEqual(1 / 16);
      expect(irq.reference).toBeGreaterThanOrEqual(4 * irq.vnic);
      expect(irq.note).toMatch(
        /coalescing rx maxPackets 32 maxUsecs 20000; coalesced: [1-9]\d* notifications for [1-9]\d* frames .*; not coalesced: [1-9]\d* notifications for [1-9]\d* frames/,
      );
      // The SQPOLL TX rows (txSqPoll: true, against the same C loop): the NIC's ring really was on a
      // kernel SQ thread and the tap got every frame; checked here, then set apart.
      const sqpoll = rows.filter((r) => r.metric.includes('-sqpoll-'));
      rows.splice(0, rows.length, ...rows.filter((r) => !r.metric.includes('-sqpoll-')));
      expect(sqpoll.map((r) => [r.metric, r.unit])).toEqual([
        ['tx-64B-sqpoll-mpps', 'Mpps'],
        ['tx-1514B-sqpoll-gbps', 'Gbit/s'],
      ]);
      for (const r of sqpoll) {
        expect(r.vnic).toBeGreaterThan(0);
        expect(r.reference).toBeGreaterThan(0);
        expect(r.note).toMatch(/vnic: TX engine io_uring SQPOLL; tap got (\d+)\/\1 frames the device sent/);
      }
      // The packed ring against the split ring, window for window (two NICs, the same guest and
      // frames; ratio packed / split): both taps got every frame their device sent. Set apart here.
      const pvs = rows.splice(
        rows.findIndex((r) => r.metric === 'tx-64B-packed-vs-split-mpps'),
        1,
      )[0]!;
      /** A row of vnic against vnic (the reference side `refLabel`): rates of both, their ratio, both sides' CPU per frame in the note. */
      const expectVnicPair = (r: BenchRow, referenceName: string, refLabel: string): void => {
        expect(r.unit).toBe('Mpps');
        expect(r.referenceName).toBe(referenceName);
        expect(r.vnic).toBeGreaterThan(0);
        expect(r.reference).toBeGreaterThan(0);
        expect(r.ratio).toBe(Math.round((r.vnic / r.reference!) * 1000) / 1000);
        expect(r.note).toMatch(
          new RegExp(
            `median of 1 windows of 0\\.4 s \\(vnic [\\d.]+\\.\\.[\\d.]+, ${refLabel} [\\d.]+\\.\\.[\\d.]+\\); CPU per frame: vnic device [\\d.]+ us \\+ guest [\\d.]+ us, ${refLabel} [\\d.]+ us;`,
          ),
        );
      };
      expectVnicPair(pvs, 'a second NIC on a split ring', 'split');
      expect(pvs.note).toMatch(
        /vnic: TX engine (io_uring|writev); tap got (\d+)\/\2 frames the device sent.*; split: TX engine (io_uring|writev); tap got (\d+)\/\4 frames the device sent/,
      );
      // The TX and RX sides say what their IO thread allocated per frame (IoHeapCounter).
      for (const m of ['tx-64B-mpps', 'tx-1514B-gbps', 'rx-64B-mpps', 'tx-64B-sqpoll-mpps']) {
        expect([...rows, ...sqpoll].find((r) => r.metric === m)!.note, m).toMatch(/IO thread heap [\d.]+ B allocated per frame \(\d+ B over [1-9]\d* frames/);
      }
      // The dirty-log rows: the same NIC with logging on (vnic) and off (reference), windows alternating;
      // the device's dirty log took pages in every logged window (the TX used ring; RX buffers and used ring).
      const logged = [rows.splice(6, 1)[0]!, rows.splice(3, 1)[0]!];
      expect(logged.map((r) => r.metric)).toEqual(['rx-64B-dirtylog-mpps', 'tx-64B-dirtylog-mpps']);
      for (const r of logged) {
        expectVnicPair(r, 'the same NIC, dirty log off', 'log off');
        expect(r.note).toMatch(/vnic: dirty log on \(memfd, \d+ bytes\): [1-9]\d* pages logged over 1 windows; .*log off: the same NIC with dirty logging off/);
        expect(r.note).toMatch(/(headroom: vnic|^source-limited \()/);
      }
      expect(logged[1]!.note).toMatch(/TX engine (io_uring|writev); tap got (\d+)\/\2 frames the device sent/);
      expect(logged[0]!.note).toMatch(/source got [\d.]+ Mpps into the tap queue/);
      for (const r of rows) {
        expect(r.bench).toBe('virtio-net');
        expect(r.vnic).toBeGreaterThan(0);
        if (r.metric === 'rss-per-nic-mib') {
          expect(r.unit).toBe('MiB');
          expect(r.reference).toBeNull();
          expect(r.ratio).toBeNull();
          expect(r.vnic).toBeLessThan(200); // an IO thread is a few MiB, not hundreds
          continue;
        }
        expect(r.reference).toBeGreaterThan(0);
        expect(r.ratio).toBeGreaterThan(0);
        if (r.metric.startsWith('rtt-')) {
          expect(r.unit).toBe('us');
          // Real round trips through the kernel, answered: counted on both sides, none lost here.
          expect(r.note).toMatch(
            /one request in flight.*vnic: a lean guest \(EchoGuest: .*\), [1-9]\d* round trips, 0 lost; C: [1-9]\d* round trips, 0 lost; no load to check: a closed loop, one request in flight$/,
          );
          continue;
        }
        // Every rate row carries its load check: the vnic side always, the C side where a source feeds it.
        expect(r.note).toMatch(/(headroom: vnic|^source-limited \(.*vnic|^source-limited \(C)/);
        expect(r.note).toMatch(/median of 1 windows of 0.4 s .*; CPU per frame: vnic device [\d.]+ us \+ guest [\d.]+ us, C [\d.]+ us;/);
      }
      // The packed-ring TX row (RING_PACKED, the same C loop): checked with the split row below, then set apart.
      const packed = rows.splice(2, 1)[0]!;
      expect(packed.metric).toBe('tx-64B-packed-mpps');
      expect(packed.unit).toBe('Mpps');
      expect(packed.note).toMatch(/vnic: TX engine (io_uring|writev); tap got (\d+)\/\2 frames the device sent/);
      expect(rows[1]!.unit).toBe('Mpps');
      expect(rows[2]!.unit).toBe('Gbit/s');
      // Both TX sides were checked against the tap's own counters (the note says what the tap got).
      expect(rows[1]!.note).toMatch(/vnic: TX engine (io_uring|writev); tap got (\d+)\/\2 frames the device sent/);
      expect(rows[3]!.note).toMatch(/vnic: source got [\d.]+ Mpps into the tap queue.*C: source got/);
      // The TX rates against the kernel's own count (the tap's rx_packets, in the notes): a rate
      // sustained over a 0.4 s window cannot claim more frames than the tap received in all (the
      // window plus its warm-up). Rounding of the printed rate: at most 0.0005 units.
      const framesPerUnit = { 'tx-64B-mpps': 1e6, 'tx-64B-packed-mpps': 1e6, 'tx-1514B-gbps': 1e9 / (1514 * 8) };
      for (const r of [rows[1]!, packed, rows[2]!]) {
        const perUnit = framesPerUnit[r.metric as keyof typeof framesPerUnit];
        const vnicTap = Number(/vnic: TX engine \w+; tap got (\d+)\//.exec(r.note!)![1]);
        const cTap = Number(/C: tap got (\d+) frames/.exec(r.note!)![1]);
        expect(Math.floor((r.vnic - 0.0005) * perUnit * 0.4), `${r.metric} vnic`).toBeLessThanOrEqual(vnicTap);
        expect(Math.floor((r.reference! - 0.0005) * perUnit * 0.4), `${r.metric} C`).toBeLessThanOrEqual(cTap);
      }
      // TX: the guest is the source (thread shares); RX: the flooder (frames offered vs taken), both sides.
      expect(rows[1]!.note).toMatch(/vnic source \d+% busy, device thread \d+%/);
      // Either both sides had headroom (both checks named) or the note leads with the side(s) that had none.
      expect(rows[3]!.note).toMatch(
        /(headroom: vnic offered [\d.]+x the measured rate.*; C offered [\d.]+x the measured rate|^source-limited \((vnic|C) offered [\d.]+x the measured rate)/,
      );
      expect(rows[4]!.vnic).toBeLessThanOrEqual(rows[5]!.vnic); // p50 <= p99 of the same windows
      expect(progress.some((p) => /RX 64 B: round 1\/1: reference/.test(p))).toBe(true);

      // Nothing left: no new namespace, no compiled programs, no fds.
      expect(nsList().filter((n) => !nsBefore.includes(n) && n.startsWith('vnb'))).toEqual([]);
      expect(cDirs().filter((d) => !dirsBefore.includes(d))).toEqual([]);
      expect(fds()).toBeLessThanOrEqual(fdsBefore + 2);
    },
    60_000,
  );
});
