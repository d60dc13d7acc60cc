/** EtherType 0x88B5 (IEEE 802 local experimental): no protocol handler in the kernel takes it. */
const ETHERTYPE_LOCAL_EXPERIMENTAL = 0x88b5;

/**
 * The frame a bench moves: `length` bytes of Ethernet II (header included, FCS excluded) from
 * `src` to `dst` with EtherType 0x88B5, the payload a repeating byte pattern. The kernel on the
 * tap's side drops it right after the device layer (no handler), the same cheap way for vnic and
 * for the C reference.
 */
export function benchFrame(length: number, dst: Uint8Array, src: Uint8Array): Uint8Array {
  if (!Number.isInteger(length) || length < 60 || length > 65_535) throw new RangeError(`frame length ${length} is outside 60..65535`);
  if (dst.length !== 6 || src.length !== 6) throw new RangeError('MAC addresses are 6 bytes');
  const f = new Uint8Array(length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = ETHERTYPE_LOCAL_EXPERIMENTAL >>> 8;
  f[13] = ETHERTYPE_LOCAL_EXPERIMENTAL & 0xff;
  for (let i = 14; i < length; i++) f[i] = (i * 7) & 0xff;
  return f;
}
