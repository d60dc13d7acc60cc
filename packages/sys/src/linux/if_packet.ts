/**
 * AF_PACKET sockets, names and values as in linux/if_packet.h, linux/if_ether.h and
 * linux/socket.h (struct sockaddr_ll checked with offsetof/sizeof against glibc on x86-64).
 */

/** Packet sockets (raw link-level frames). */
export const AF_PACKET = 17;
/** socket type: raw frames including the link-level header. */
export const SOCK_RAW = 3;
/** Every protocol (linux/if_ether.h), in host order: pass it through htons. */
export const ETH_P_ALL = 0x0003;
/** setsockopt level of packet sockets. */
export const SOL_PACKET = 263;
/** Do not deliver frames this host transmits on the interface (since Linux 4.20). */
export const PACKET_IGNORE_OUTGOING = 23;
/** sizeof(struct sockaddr_ll). */
export const SOCKADDR_LL_SIZE = 20;
/** offsetof(struct sockaddr_ll, sll_protocol) (big-endian u16). */
export const SOCKADDR_LL_PROTOCOL = 2;
/** offsetof(struct sockaddr_ll, sll_ifindex) (int). */
export const SOCKADDR_LL_IFINDEX = 4;
