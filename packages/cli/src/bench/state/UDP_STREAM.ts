/**
 * The stream's UDP destination port (`reversePort`: the tap -> guest stream's) and header bytes
 * before its payload (Ethernet + IPv4 + UDP).
 */
export const UDP_STREAM = { port: 9999, reversePort: 9998, headers: 14 + 20 + 8, ethIpv4: 0x0800 } as const;
