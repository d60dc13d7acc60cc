import { describe, expect, it } from 'vitest';
import { VnicError } from '../errors/VnicError.ts';
import { decodeVirtioNetConfig } from './decodeVirtioNetConfig.ts';
import { encodeVirtioNetConfig } from './encodeVirtioNetConfig.ts';
import type { VirtioNetConfig } from './VirtioNetConfig.ts';
import * as C from './VirtioNetConfig.ts';

const CONFIG: VirtioNetConfig = {
  mac: Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56),
  status: 3,
  maxVirtqueuePairs: 0x0104,
  mtu: 9000,
  speed: 25000,
  duplex: C.VIRTIO_NET_DUPLEX_FULL,
};
// §5.1.4: mac[6] @0, le16 status @6, le16 max_virtqueue_pairs @8, le16 mtu @10, le32 speed @12, u8 duplex @16.
const BYTES = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x03, 0x00, 0x04, 0x01, 0x28, 0x23, 0xa8, 0x61, 0x00, 0x00, 0x01];

describe('virtio_net_config', () => {
  it('has the §5.1.4 field offsets', () => {
    expect([
      C.VIRTIO_NET_CONFIG_MAC_OFFSET,
      C.VIRTIO_NET_CONFIG_STATUS_OFFSET,
      C.VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS_OFFSET,
      C.VIRTIO_NET_CONFIG_MTU_OFFSET,
      C.VIRTIO_NET_CONFIG_SPEED_OFFSET,
      C.VIRTIO_NET_CONFIG_DUPLEX_OFFSET,
      C.VIRTIO_NET_CONFIG_SIZE,
    ]).toEqual([0, 6, 8, 10, 12, 16, 17]);
  });

  it('encodes the spec layout', () => {
    expect([...encodeVirtioNetConfig(CONFIG)]).toEqual(BYTES);
  });

  it('encodes into a given buffer', () => {
    const dst = new Uint8Array(20).fill(0xee);
    expect(encodeVirtioNetConfig(CONFIG, dst)).toBe(dst);
    expect([...dst]).toEqual([...BYTES, 0xee, 0xee, 0xee]);
  });

  it('encodes an unknown speed as 0xffffffff', () => {
    const b = encodeVirtioNetConfig({ ...CONFIG, speed: 0xffffffff, duplex: 0xff });
    expect([...b.subarray(12)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  it('rejects a bad MAC or a short buffer', () => {
    expect(() => encodeVirtioNetConfig({ ...CONFIG, mac: new Uint8Array(5) })).toThrow(VnicError);
    expect(() => encodeVirtioNetConfig(CONFIG, new Uint8Array(16))).toThrow(/needs 17/);
  });

  it('decodes what it encodes, and nothing shorter than 17 bytes', () => {
    expect(decodeVirtioNetConfig(Uint8Array.from(BYTES))).toEqual(CONFIG);
    expect(decodeVirtioNetConfig(new Uint8Array(16))).toBeUndefined();
  });
});
