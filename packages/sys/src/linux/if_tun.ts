/**
 * TUN/TAP ioctls and flags, names and values as in linux/if_tun.h (include/uapi/linux/if_tun.h;
 * TUN_F_USO4/USO6 since Linux 6.2). Request numbers are the x86-64/aarch64 `_IOW`/`_IOR` encodings.
 */

/** `_IOW('T', 202, int)`: create or attach to a tun/tap device (struct ifreq *). */
export const TUNSETIFF = 0x400454ca;
/** `_IOW('T', 203, int)`: make the device outlive its last fd (int by value). */
export const TUNSETPERSIST = 0x400454cb;
/** `_IOR('T', 207, unsigned int)`: the IFF_* flags the driver supports (unsigned int *). */
export const TUNGETFEATURES = 0x800454cf;
/** `_IOW('T', 208, unsigned int)`: the TUN_F_* offloads userspace can take (by value). */
export const TUNSETOFFLOAD = 0x400454d0;
/** `_IOW('T', 209, unsigned int)`: filter frames the tap hands to userspace by destination MAC (struct tun_filter *). */
export const TUNSETTXFILTER = 0x400454d1;
/** `_IOR('T', 210, unsigned int)`: name and flags of the attached device (struct ifreq *). */
export const TUNGETIFF = 0x800454d2;
/** `_IOW('T', 212, int)`: send buffer of the device's sockets, bytes; writes get EAGAIN when it is full (int *). */
export const TUNSETSNDBUF = 0x400454d4;
/** `_IOR('T', 215, int)`: size of the virtio-net header prepended to frames (int *). */
export const TUNGETVNETHDRSZ = 0x800454d7;
/** `_IOW('T', 216, int)`: set the virtio-net header size, e.g. 12 (int *). */
export const TUNSETVNETHDRSZ = 0x400454d8;
/** `_IOW('T', 217, int)`: attach or detach one queue of a multiqueue device (struct ifreq *). */
export const TUNSETQUEUE = 0x400454d9;

/** TUNSETIFF: layer-3 tun device. */
export const IFF_TUN = 0x0001;
/** TUNSETIFF: Ethernet tap device. */
export const IFF_TAP = 0x0002;
/** TUNSETIFF: no struct tun_pi before each frame. */
export const IFF_NO_PI = 0x1000;
/** TUNSETIFF: a struct virtio_net_hdr precedes each frame. */
export const IFF_VNET_HDR = 0x4000;
/** TUNSETIFF: one fd per queue; each further TUNSETIFF with the same name adds a queue. */
export const IFF_MULTI_QUEUE = 0x0100;
/** TUNSETQUEUE: re-attach this fd's queue. */
export const IFF_ATTACH_QUEUE = 0x0200;
/** TUNSETQUEUE: detach this fd's queue (the fd stays open). */
export const IFF_DETACH_QUEUE = 0x0400;
/** TUNGETIFF (read-only): the device is persistent. */
export const IFF_PERSIST = 0x0800;

/** struct tun_filter.flags: accept every multicast frame. */
export const TUN_FLT_ALLMULTI = 0x0001;
/** `struct tun_filter { __u16 flags; __u16 count; __u8 addr[][ETH_ALEN]; }`: 4-byte header. */
export const TUN_FILTER_SIZE = 4;
/** Addresses the kernel matches exactly (FLT_EXACT_COUNT in drivers/net/tun.c); further multicast ones are hashed. */
export const TUN_FLT_EXACT_COUNT = 8;

/** TUNSETOFFLOAD: you can hand me unchecksummed packets. */
export const TUN_F_CSUM = 0x01;
/** TUNSETOFFLOAD: I can handle TSO for IPv4 packets (needs TUN_F_CSUM). */
export const TUN_F_TSO4 = 0x02;
/** TUNSETOFFLOAD: I can handle TSO for IPv6 packets (needs TUN_F_CSUM). */
export const TUN_F_TSO6 = 0x04;
/** TUNSETOFFLOAD: I can handle TSO with ECN bits (needs TSO4 or TSO6). */
export const TUN_F_TSO_ECN = 0x08;
/** TUNSETOFFLOAD: I can handle UFO packets (accepted, ignored by current kernels). */
export const TUN_F_UFO = 0x10;
/** TUNSETOFFLOAD: I can handle USO for IPv4 packets (the kernel wants USO4 and USO6 together). */
export const TUN_F_USO4 = 0x20;
/** TUNSETOFFLOAD: I can handle USO for IPv6 packets (the kernel wants USO4 and USO6 together). */
export const TUN_F_USO6 = 0x40;
