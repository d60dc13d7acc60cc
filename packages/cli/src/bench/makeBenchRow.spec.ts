import { describe, expect, it } from 'vitest';
import { checkHeadroom } from './checkHeadroom.ts';
import { makeBenchRow } from './makeBenchRow.ts';

describe('makeBenchRow', () => {
  const roomy = checkHeadroom({ offered: 1500, measured: 1000 });
  const starved = checkHeadroom({ offered: 16_255, measured: 16_255 });

  it('says which limit its load checks found: device when every side had headroom, source-limited when one had none', () => {
    const ok = makeBenchRow('vhost-net', 'rx-64B-mpps', 'Mpps', 0.07, 0.02, { headroom: { 'vhost-net': roomy, 'in-process': roomy } });
    expect(ok.limit).toBe('device');
    expect(ok.note).toBe('headroom: vhost-net offered 1.50x the measured rate; in-process offered 1.50x the measured rate');
    const one = makeBenchRow('vhost-net', 'rx-64B-mpps', 'Mpps', 0.004, 0.012, { note: 'in a VM', headroom: { 'vhost-net': starved, 'in-process': roomy } });
    expect(one.limit).toBe('source-limited');
    expect(one.note).toBe('source-limited (vhost-net offered 1.00x the measured rate); in a VM');
    const both = makeBenchRow('b', 'm', 'Mpps', 1, 1, { headroom: { vnic: starved, C: starved } });
    expect(both.note).toBe('source-limited (vnic offered 1.00x the measured rate; C offered 1.00x the measured rate)');
  });

  it('marks a row without a load as no-load with its reason, and one built without a check as unchecked', () => {
    const rss = makeBenchRow('virtio-net', 'rss-per-nic-mib', 'MiB', 3.2, null, { note: '64 NICs', noLoad: 'a memory row' });
    expect(rss).toEqual({
      bench: 'virtio-net',
      metric: 'rss-per-nic-mib',
      unit: 'MiB',
      vnic: 3.2,
      reference: null,
      ratio: null,
      note: '64 NICs; no load to check: a memory row',
      limit: 'no-load',
    });
    expect(makeBenchRow('state', 'save-ms', 'ms', 1, null, { noLoad: 'a cost row' }).note).toBe('no load to check: a cost row');
    const bare = makeBenchRow('b', 'm', 'Mpps', 1, 2);
    expect(bare.limit).toBe('unchecked');
    expect(bare).not.toHaveProperty('note');
  });

  it('marks a row whose source is paced on purpose as paced, with its rate, never as source-limited', () => {
    const irq = makeBenchRow('virtio-net', 'irq-per-frame-coalesced', 'notifications/frame', 0.031, 0.98, {
      note: 'median of 5 windows',
      paced: 'RX source at 10000 frames/s',
    });
    expect(irq.limit).toBe('paced');
    expect(irq.note).toBe('median of 5 windows; paced load: RX source at 10000 frames/s');
    expect(makeBenchRow('b', 'm', 'x', 1, 1, { paced: 'p' }).note).toBe('paced load: p');
  });

  it('refuses a row with more than one of a load check, a no-load reason and a pace; an empty check is no check', () => {
    expect(() => makeBenchRow('b', 'm', 'Mpps', 1, 2, { headroom: { vnic: roomy }, noLoad: 'x' })).toThrow(/both a load check and noLoad/);
    expect(() => makeBenchRow('b', 'm', 'Mpps', 1, 2, { headroom: { vnic: roomy }, paced: 'x' })).toThrow(/both a load check and paced/);
    expect(() => makeBenchRow('b', 'm', 'Mpps', 1, 2, { noLoad: 'x', paced: 'y' })).toThrow(/both noLoad and paced/);
    expect(makeBenchRow('b', 'm', 'Mpps', 1, 2, { headroom: {} }).limit).toBe('unchecked');
  });
});
