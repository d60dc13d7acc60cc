import { describe, expect, it } from 'vitest';
import { burstPayload } from './burstPayload.ts';
import { Cleanup } from './Cleanup.ts';
import { formatStatsTable } from './formatStatsTable.ts';
import { pickDemoNic } from './pickDemoNic.ts';

describe('pickDemoNic', () => {
  const raw = {
    vcpus: 2,
    net: [
      { id: 'a', backend: 'vhost-user', mac: '52:54:00:00:00:01' },
      { id: 'b', backend: 'virtio-net', mac: '52:54:00:00:00:02', 'virtio-net': { tap: 'old', extra: 1 } },
      { id: 'c', backend: 'virtio-net', mac: '52:54:00:00:00:03' },
    ],
  };

  it('takes the first virtio-net entry alone, renaming its tap and keeping the rest of the config', () => {
    const nic = pickDemoNic(raw, 'vm.json', 'vnd123456');
    expect(nic).toMatchObject({ index: 1, id: 'b', tap: 'vnd123456' });
    expect(nic.config).toEqual({ vcpus: 2, net: [{ id: 'b', backend: 'virtio-net', mac: '52:54:00:00:00:02', 'virtio-net': { tap: 'vnd123456', extra: 1 } }] });
    expect(raw.net[1]!['virtio-net']).toEqual({ tap: 'old', extra: 1 }); // the input is untouched
    expect(pickDemoNic({ net: [raw.net[2]] }, 'x', 't').config).toMatchObject({ net: [{ 'virtio-net': { tap: 't' } }] });
  });

  it('says what is missing when there is no virtio-net entry', () => {
    expect(() => pickDemoNic({ net: [raw.net[0]] }, 'vm.json', 't')).toThrow(/vm\.json has no net\[\] entry with "backend": "virtio-net"/);
    expect(() => pickDemoNic(42, 'vm.json', 't')).toThrow(/has no net\[\] entry/);
  });
});

describe('formatStatsTable', () => {
  it('aligns one row per queue and names rx/tx/ctrl', () => {
    const row = (index: number, packets: number) => ({
      index,
      packets,
      bytes: packets * 100,
      drops: 0,
      malformed: 0,
      noBuffer: index === 0 ? 12 : 0,
      filtered: 0,
    });
    expect(formatStatsTable([row(0, 5), row(1, 12345), row(2, 0)], 1, '  ')).toBe(
      [
        '  queue  role  packets    bytes  drops  malformed  noBuffer  filtered',
        '  0      rx0         5      500      0          0        12         0',
        '  1      tx0     12345  1234500      0          0         0         0',
        '  2      ctrl        0        0      0          0         0         0',
        '',
      ].join('\n'),
    );
  });
});

describe('burstPayload', () => {
  it('is the sequence number big-endian, then (i * 7) & 0xff', () => {
    expect([...burstPayload(0x01020304, 10)]).toEqual([1, 2, 3, 4, 0, 7, 14, 21, 28, 35]);
    expect(burstPayload(0, 48)[4 + 37]).toBe(3); // 37 * 7 = 259 wraps to 3
  });
});

describe('Cleanup', () => {
  it('runs steps last first, once, reporting failures and going on', async () => {
    const order: string[] = [];
    const c = new Cleanup();
    c.add('a done', () => order.push('a'));
    c.add('b done', () => {
      throw new Error('b broke');
    });
    c.add('c done', async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('c');
    });
    const [first, second] = await Promise.all([c.runAll(), c.runAll()]); // Ctrl-C during teardown
    expect(first).toEqual(['c done', 'b done FAILED: b broke', 'a done']);
    expect(second).toBe(first);
    expect(order).toEqual(['c', 'a']);
    expect(await c.runAll()).toEqual([]);
  });
});
