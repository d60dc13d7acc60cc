/** The stream's UDP destination port and header bytes before its payload (Ethernet + IPv4 + UDP). */
export const UDP_STREAM = { port: 9999, headers: 14 + 20 + 8, ethIpv4: 0x0800 } as const;
