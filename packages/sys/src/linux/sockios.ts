/**
 * Interface ioctls and struct ifreq, names and values as in linux/sockios.h and net/if.h.
 * These run on any socket; the name is looked up in the socket's network namespace.
 */

/** Get interface flags (ifr_flags). */
export const SIOCGIFFLAGS = 0x8913;
/** Set interface flags (ifr_flags). */
export const SIOCSIFFLAGS = 0x8914;
/** Get the MTU (ifr_mtu). */
export const SIOCGIFMTU = 0x8921;
/** Set the MTU (ifr_mtu). */
export const SIOCSIFMTU = 0x8922;
/** Name to ifindex (ifr_ifindex). */
export const SIOCGIFINDEX = 0x8933;

/** ifr_flags bit: the interface is administratively up. */
export const IFF_UP = 0x1;
/** Size of ifr_name including the terminating NUL: names are at most 15 bytes. */
export const IFNAMSIZ = 16;
/** sizeof(struct ifreq) on 64-bit Linux. */
export const IFREQ_SIZE = 40;
/** Offset of the ifr_ifru union (ifr_flags, ifr_mtu, ifr_ifindex) in struct ifreq. */
export const IFREQ_UNION_OFFSET = 16;
