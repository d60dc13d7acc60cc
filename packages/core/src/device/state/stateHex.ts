/** A feature mask as the `0x` hex string a NetDeviceState carries. */
export function stateHex(mask: bigint): string {
  return `0x${mask.toString(16)}`;
}
