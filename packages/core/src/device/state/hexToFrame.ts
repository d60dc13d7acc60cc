/** The bytes of a hex string frameToHex wrote (the caller checked it: even length, hex digits only). */
export function hexToFrame(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
