/** Formats the six bytes at `offset` of `bytes` as `52:54:00:12:34:56`. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return out.join(':');
}
