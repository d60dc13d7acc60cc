/** IEEE 802 local experimental ethertype: the conformance suite's frames, easy to filter. */
export const TEST_ETHERTYPE = 0x88b5;

/** Source MAC of frames the outside sends to the guest. */
export const OUTSIDE_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);

/**
 * A test frame: dst, src, TEST_ETHERTYPE, then `seq` (u32 BE) and a pattern derived from seq, so a
 * corrupted or reordered frame is detected. `size` is the whole frame length (>= 18).
 */
export function testFrame(dst: Uint8Array, src: Uint8Array, seq: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = TEST_ETHERTYPE >> 8;
  f[13] = TEST_ETHERTYPE & 0xff;
  new DataView(f.buffer).setUint32(14, seq);
  for (let i = 18; i < size; i++) f[i] = (seq * 31 + i) & 0xff;
  return f;
}

/** Sequence number of a test frame. */
export function frameSeq(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(14);
}

/** True for a frame carrying TEST_ETHERTYPE. */
export function isTestFrame(frame: Uint8Array): boolean {
  return frame.length >= 18 && frame[12] === TEST_ETHERTYPE >> 8 && frame[13] === (TEST_ETHERTYPE & 0xff);
}
