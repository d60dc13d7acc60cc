import { describe, expect, it } from 'vitest';
import { checkStateFits } from './checkStateFits.ts';
import { parseVhostUserDeviceState } from './parseVhostUserDeviceState.ts';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';

/** A state file as `vnic serve` writes it (literal JSON, not built by the code under test). */
const FILE = `{
  "format": "vnic-vhost-user-device-state",
  "version": 1,
  "savedAt": "2026-12-02T00:18:56.497Z",
  "socket": "/run/vnic/a.sock",
  "tap": "vnic7",
  "queuePairs": 1,
  "offered": "0x17000ff83",
  "features": "0x150008000",
  "protocolFeatures": "0x9",
  "queues": [
    { "index": 0, "size": 256, "enabled": true, "descUserAddr": "0x7f0000000000", "availUserAddr": "0x7f0000001000",
      "usedUserAddr": "0x7f0000002000", "nextAvail": 129, "nextUsed": 129,
      "counters": { "packets": 129, "bytes": 8256, "drops": 0, "malformed": 0, "noBuffer": 0, "filtered": 0 } }
  ]
}`;
const good = (): Record<string, unknown> => JSON.parse(FILE) as Record<string, unknown>;

describe('parseVhostUserDeviceState', () => {
  it('reads a state file as vnic serve writes it', () => {
    const s = parseVhostUserDeviceState(good(), 'state.json');
    expect(s.queues[0]!.nextAvail).toBe(129);
    expect(BigInt(s.features)).toBe(0x1_5000_8000n);
  });

  const bad: [string, (o: Record<string, unknown>) => void, RegExp][] = [
    [
      'another format',
      (o) => (o['format'] = 'firecracker'),
      /state\.json: device state field format is "firecracker"; expected "vnic-vhost-user-device-state"/,
    ],
    ['another version', (o) => (o['version'] = 2), /field version is 2; this vnic reads version 1 only/],
    ['features not hex', (o) => (o['features'] = 123), /field features must be a hex string/],
    [
      'a vring index past the queue pairs',
      (o) => ((o['queues'] as Record<string, unknown>[])[0]!['index'] = 2),
      /field queues\[0\]\.index must be a distinct vring index below 2/,
    ],
    ['a ring size not a power of two', (o) => ((o['queues'] as Record<string, unknown>[])[0]!['size'] = 100), /queues\[0\]\.size must be a power of two/],
    [
      'an avail index past u16',
      (o) => ((o['queues'] as Record<string, unknown>[])[0]!['nextAvail'] = 70000),
      /queues\[0\]\.nextAvail must be a split ring's u16 index/,
    ],
    [
      'a negative counter',
      (o) => (((o['queues'] as Record<string, unknown>[])[0]!['counters'] as Record<string, unknown>)['drops'] = -1),
      /queues\[0\]\.counters\.drops must be a non-negative integer/,
    ],
  ];
  for (const [what, spoil, error] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      const o = good();
      spoil(o);
      let caught: unknown;
      try {
        parseVhostUserDeviceState(o, 'state.json');
      } catch (e) {
        caught = e;
      }
      expect(VhostUserDeviceError.is(caught)).toBe(true);
      expect((caught as Error).message).toMatch(error);
    });
  }
});

describe('checkStateFits', () => {
  const state = parseVhostUserDeviceState(good(), 'state.json');
  it('takes a state whose acked features this server offers, with the same queue pairs', () => {
    expect(() => checkStateFits(state, 0x1_7000_ff83n, 1, 'vhost-user /run/b.sock')).not.toThrow();
  });
  it('refuses more (or fewer) queue pairs than this server serves', () => {
    expect(() => checkStateFits(state, 0x1_7000_ff83n, 2, 'vhost-user /run/b.sock')).toThrow(
      /vhost-user \/run\/b\.sock: the device state saved by \/run\/vnic\/a\.sock at .* has 1 queue pair\(s\); this server serves 2: start it with --queue-pairs 1/,
    );
  });
  it('refuses acked features this server does not offer, by name (a tap without an offload)', () => {
    // MRG_RXBUF (bit 15) missing from the offer.
    expect(() => checkStateFits(state, 0x1_7000_7f83n, 1, 'vhost-user /run/b.sock')).toThrow(
      /has features 0x8000 \(MRG_RXBUF\) acked that this server does not offer \(0x170007f83\)/,
    );
  });
});
