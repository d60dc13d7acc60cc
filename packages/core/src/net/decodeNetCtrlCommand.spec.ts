import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VnicError } from '../errors/VnicError.ts';
import { decodeNetCtrlCommand } from './decodeNetCtrlCommand.ts';
import { encodeNetCtrlCommand } from './encodeNetCtrlCommand.ts';
import type { NetCtrlCommand } from './NetCtrlCommand.ts';
import { NetCtrlError } from './NetCtrlError.ts';

const MAC_A = [0x52, 0x54, 0x00, 0x00, 0x00, 0x01];
const MAC_B = [0x52, 0x54, 0x00, 0x00, 0x00, 0x02];
const MCAST = [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb];

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ok = (b: Uint8Array): NetCtrlCommand => {
  const r = decodeNetCtrlCommand(b);
  if (!r.ok) throw new Error(`expected a command, got: ${r.error}`);
  return r.command;
};
const err = (b: Uint8Array): string => {
  const r = decodeNetCtrlCommand(b);
  if (r.ok) throw new Error(`expected an error, got ${r.command.kind}`);
  return r.error;
};

// Hand-written wire bytes (§5.1.6.5) and what they decode to.
const CASES: [string, number[], NetCtrlCommand][] = [
  ['RX PROMISC on', [0, 0, 1], { kind: 'rx-mode', mode: 'promisc', on: true }],
  ['RX ALLMULTI off', [0, 1, 0], { kind: 'rx-mode', mode: 'allmulti', on: false }],
  ['RX ALLUNI on', [0, 2, 1], { kind: 'rx-mode', mode: 'alluni', on: true }],
  ['RX NOMULTI on', [0, 3, 1], { kind: 'rx-mode', mode: 'nomulti', on: true }],
  ['RX NOUNI on', [0, 4, 1], { kind: 'rx-mode', mode: 'nouni', on: true }],
  ['RX NOBCAST on', [0, 5, 1], { kind: 'rx-mode', mode: 'nobcast', on: true }],
  [
    'MAC_TABLE_SET 2 unicast + 1 multicast',
    [1, 0, 2, 0, 0, 0, ...MAC_A, ...MAC_B, 1, 0, 0, 0, ...MCAST],
    { kind: 'mac-table-set', unicast: [bytes(...MAC_A), bytes(...MAC_B)], multicast: [bytes(...MCAST)] },
  ],
  ['MAC_TABLE_SET empty', [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], { kind: 'mac-table-set', unicast: [], multicast: [] }],
  ['MAC_ADDR_SET', [1, 1, ...MAC_B], { kind: 'mac-addr-set', mac: bytes(...MAC_B) }],
  ['VLAN_ADD 0x123', [2, 0, 0x23, 0x01], { kind: 'vlan-add', vid: 0x123 }],
  ['VLAN_DEL 4095', [2, 1, 0xff, 0x0f], { kind: 'vlan-del', vid: 4095 }],
  ['ANNOUNCE_ACK', [3, 0], { kind: 'announce-ack' }],
  ['MQ VQ_PAIRS_SET 4', [4, 0, 4, 0], { kind: 'mq-vq-pairs-set', pairs: 4 }],
  ['MQ VQ_PAIRS_SET 0x8000', [4, 0, 0x00, 0x80], { kind: 'mq-vq-pairs-set', pairs: 0x8000 }],
  ['GUEST_OFFLOADS_SET', [5, 0, 0x82, 0x01, 0, 0, 0, 0, 0xc0, 0x80], { kind: 'guest-offloads-set', offloads: 0x80c0_0000_0000_0182n }],
];

describe('decodeNetCtrlCommand', () => {
  it.each(CASES)('decodes %s', (_name, wire, command) => {
    expect(ok(Uint8Array.from(wire))).toEqual(command);
  });

  it('copies MACs out of the input', () => {
    const wire = bytes(1, 1, ...MAC_A);
    const cmd = ok(wire);
    wire[2] = 0xff;
    expect(cmd).toEqual({ kind: 'mac-addr-set', mac: bytes(...MAC_A) });
  });

  it.each<[string, number[], string]>([
    ['empty', [], NetCtrlError.TOO_SHORT],
    ['class only', [0], NetCtrlError.TOO_SHORT],
    ['unknown class', [7, 0], NetCtrlError.UNKNOWN_CLASS],
    ['unknown class 0xff', [0xff, 0, 1], NetCtrlError.UNKNOWN_CLASS],
    ['RX unknown command', [0, 6, 1], NetCtrlError.UNKNOWN_COMMAND],
    ['RX without data', [0, 0], NetCtrlError.BAD_LENGTH],
    ['RX with 2 bytes', [0, 0, 1, 0], NetCtrlError.BAD_LENGTH],
    ['RX on = 2', [0, 0, 2], NetCtrlError.BAD_ON_OFF],
    ['MAC unknown command', [1, 2, ...MAC_A], NetCtrlError.UNKNOWN_COMMAND],
    ['MAC_ADDR_SET 5 bytes', [1, 1, 1, 2, 3, 4, 5], NetCtrlError.BAD_LENGTH],
    ['MAC_ADDR_SET 7 bytes', [1, 1, ...MAC_A, 0], NetCtrlError.BAD_LENGTH],
    ['MAC_TABLE_SET no data', [1, 0], NetCtrlError.MAC_TABLE_LENGTH],
    ['MAC_TABLE_SET short entries field', [1, 0, 0, 0, 0], NetCtrlError.MAC_TABLE_LENGTH],
    ['MAC_TABLE_SET no multicast table', [1, 0, 1, 0, 0, 0, ...MAC_A], NetCtrlError.MAC_TABLE_LENGTH],
    ['MAC_TABLE_SET unicast count too large', [1, 0, 2, 0, 0, 0, ...MAC_A, 0, 0, 0, 0], NetCtrlError.MAC_TABLE_LENGTH],
    ['MAC_TABLE_SET multicast count too large', [1, 0, 0, 0, 0, 0, 2, 0, 0, 0, ...MCAST], NetCtrlError.MAC_TABLE_LENGTH],
    ['MAC_TABLE_SET trailing byte', [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, ...MCAST, 0], NetCtrlError.MAC_TABLE_LENGTH],
    ['MAC_TABLE_SET 0xffffffff entries', [1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], NetCtrlError.MAC_TABLE_LENGTH],
    ['VLAN unknown command', [2, 2, 1, 0], NetCtrlError.UNKNOWN_COMMAND],
    ['VLAN 1 byte', [2, 0, 1], NetCtrlError.BAD_LENGTH],
    ['VLAN 3 bytes', [2, 0, 1, 0, 0], NetCtrlError.BAD_LENGTH],
    ['VLAN id 4096', [2, 0, 0x00, 0x10], NetCtrlError.VLAN_ID_RANGE],
    ['VLAN id 0xffff', [2, 1, 0xff, 0xff], NetCtrlError.VLAN_ID_RANGE],
    ['ANNOUNCE unknown command', [3, 1], NetCtrlError.UNKNOWN_COMMAND],
    ['ANNOUNCE_ACK with data', [3, 0, 0], NetCtrlError.BAD_LENGTH],
    ['MQ unknown command (RSS_CONFIG)', [4, 1, 1, 0], NetCtrlError.UNKNOWN_COMMAND],
    ['MQ 1 byte', [4, 0, 1], NetCtrlError.BAD_LENGTH],
    ['MQ pairs 0', [4, 0, 0, 0], NetCtrlError.VQ_PAIRS_RANGE],
    ['MQ pairs 0x8001', [4, 0, 0x01, 0x80], NetCtrlError.VQ_PAIRS_RANGE],
    ['GUEST_OFFLOADS unknown command', [5, 1, 0, 0, 0, 0, 0, 0, 0, 0], NetCtrlError.UNKNOWN_COMMAND],
    ['GUEST_OFFLOADS 7 bytes', [5, 0, 0, 0, 0, 0, 0, 0, 0], NetCtrlError.BAD_LENGTH],
    ['GUEST_OFFLOADS 9 bytes', [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], NetCtrlError.BAD_LENGTH],
  ])('rejects %s', (_name, wire, error) => {
    expect(err(Uint8Array.from(wire))).toBe(error);
  });

  it('reports the class and command bytes of a bad command', () => {
    expect(decodeNetCtrlCommand(bytes(2, 0, 0x00, 0x10))).toEqual({ ok: false, error: NetCtrlError.VLAN_ID_RANGE, ctrlClass: 2, ctrlCommand: 0 });
    expect(decodeNetCtrlCommand(bytes(7))).toEqual({ ok: false, error: NetCtrlError.TOO_SHORT, ctrlClass: 7, ctrlCommand: undefined });
  });

  it('never throws on guest bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const r = decodeNetCtrlCommand(b);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
    // Biased towards valid classes and commands.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.uint8Array({ maxLength: 40 }), (c, m, d) => {
        const r = decodeNetCtrlCommand(Uint8Array.from([c, m, ...d]));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('encodeNetCtrlCommand', () => {
  it.each(CASES)('encodes %s to the spec bytes', (_name, wire, command) => {
    expect([...encodeNetCtrlCommand(command)]).toEqual(wire);
  });

  it('encodes out-of-range values that fit the field, so a test driver can send them', () => {
    expect([...encodeNetCtrlCommand({ kind: 'vlan-add', vid: 4096 })]).toEqual([2, 0, 0x00, 0x10]);
    expect([...encodeNetCtrlCommand({ kind: 'mq-vq-pairs-set', pairs: 0 })]).toEqual([4, 0, 0, 0]);
  });

  it('throws for values that do not fit their field', () => {
    expect(() => encodeNetCtrlCommand({ kind: 'mac-addr-set', mac: new Uint8Array(5) })).toThrow(VnicError);
    expect(() => encodeNetCtrlCommand({ kind: 'mac-table-set', unicast: [new Uint8Array(7)], multicast: [] })).toThrow(VnicError);
    expect(() => encodeNetCtrlCommand({ kind: 'vlan-add', vid: 0x10000 })).toThrow(VnicError);
    expect(() => encodeNetCtrlCommand({ kind: 'mq-vq-pairs-set', pairs: -1 })).toThrow(VnicError);
    expect(() => encodeNetCtrlCommand({ kind: 'guest-offloads-set', offloads: 1n << 64n })).toThrow(VnicError);
    expect(() => encodeNetCtrlCommand({ kind: 'guest-offloads-set', offloads: -1n })).toThrow(VnicError);
  });

  it('round-trips random MAC tables', () => {
    const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
    fc.assert(
      fc.property(fc.array(mac, { maxLength: 20 }), fc.array(mac, { maxLength: 20 }), (unicast, multicast) => {
        const cmd: NetCtrlCommand = { kind: 'mac-table-set', unicast, multicast };
        expect(ok(encodeNetCtrlCommand(cmd))).toEqual(cmd);
      }),
    );
  });
});
