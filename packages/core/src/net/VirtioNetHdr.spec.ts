import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_F_NEEDS_CSUM } from '../defs/virtio_net.ts';
import { decodeVirtioNetHdr } from './decodeVirtioNetHdr.ts';
import { encodeVirtioNetHdr } from './encodeVirtioNetHdr.ts';
import type { VirtioNetHdr } from './VirtioNetHdr.ts';

// §5.1.6: u8 flags, u8 gso_type, le16 hdr_len, le16 gso_size, le16 csum_start, le16 csum_offset, le16 num_buffers.
const HDR: VirtioNetHdr = {
  flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
  gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
  hdrLen: 0x0136,
  gsoSize: 1448,
  csumStart: 34,
  csumOffset: 16,
  numBuffers: 0x0102,
};
const BYTES = [0x01, 0x81, 0x36, 0x01, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00, 0x02, 0x01];

describe('encodeVirtioNetHdr', () => {
  it('writes the 12-byte little-endian v1 layout', () => {
    const dst = new Uint8Array(12);
    expect(encodeVirtioNetHdr(HDR, dst)).toBe(12);
    expect([...dst]).toEqual(BYTES);
  });

  it('writes at an offset and leaves the surrounding bytes alone', () => {
    const dst = new Uint8Array(16).fill(0xee);
    expect(encodeVirtioNetHdr(HDR, dst, 2)).toBe(12);
    expect([...dst]).toEqual([0xee, 0xee, ...BYTES, 0xee, 0xee]);
  });

  it('writes nothing and returns 0 when the buffer is too short', () => {
    const dst = new Uint8Array(13).fill(0xee);
    expect(encodeVirtioNetHdr(HDR, dst, 2)).toBe(0);
    expect(encodeVirtioNetHdr(HDR, dst, -1)).toBe(0);
    expect(dst.every((b) => b === 0xee)).toBe(true);
  });

  it('truncates fields to their width', () => {
    const dst = new Uint8Array(12);
    encodeVirtioNetHdr({ ...HDR, flags: 0x101, gsoSize: 0x1_2345 }, dst);
    expect(dst[0]).toBe(0x01);
    expect([dst[4], dst[5]]).toEqual([0x45, 0x23]);
  });
});

describe('decodeVirtioNetHdr', () => {
  it('reads the spec layout', () => {
    expect(decodeVirtioNetHdr(Uint8Array.from(BYTES))).toEqual(HDR);
  });

  it('reads at an offset into a reused object', () => {
    const out: VirtioNetHdr = { flags: 9, gsoType: 9, hdrLen: 9, gsoSize: 9, csumStart: 9, csumOffset: 9, numBuffers: 9 };
    const src = Uint8Array.from([0xff, 0xff, 0xff, ...BYTES]);
    expect(decodeVirtioNetHdr(src, 3, out)).toBe(out);
    expect(out).toEqual(HDR);
  });

  it('returns undefined for fewer than 12 bytes or a bad offset', () => {
    expect(decodeVirtioNetHdr(new Uint8Array(11))).toBeUndefined();
    expect(decodeVirtioNetHdr(new Uint8Array(12), 1)).toBeUndefined();
    expect(decodeVirtioNetHdr(new Uint8Array(12), -1)).toBeUndefined();
    expect(decodeVirtioNetHdr(new Uint8Array(12), 0.5)).toBeUndefined();
  });

  it('round-trips every header', () => {
    const u8 = fc.integer({ min: 0, max: 0xff });
    const u16 = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(fc.record({ flags: u8, gsoType: u8, hdrLen: u16, gsoSize: u16, csumStart: u16, csumOffset: u16, numBuffers: u16 }), (hdr) => {
        const dst = new Uint8Array(12);
        encodeVirtioNetHdr(hdr, dst);
        expect(decodeVirtioNetHdr(dst)).toEqual(hdr);
      }),
    );
  });
});
