/** Formats the four bytes at `offset` of `bytes` as dotted-quad `a.b.c.d`. */
export function formatIpv4Address(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}
