/** Parses "52:54:00:12:34:56" into six bytes (the schema has checked the format). */
export function parseMac(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((b) => parseInt(b, 16)));
}
