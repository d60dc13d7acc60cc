/** Six bytes of "52:54:00:..". */
export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((b) => parseInt(b, 16)));
}
