/** A frame as the lower-case hex string a NetDeviceState carries (`rxBacklog`). */
export function frameToHex(frame: Uint8Array): string {
  let s = '';
  for (let i = 0; i < frame.length; i++) s += (frame[i]! < 16 ? '0' : '') + frame[i]!.toString(16);
  return s;
}
