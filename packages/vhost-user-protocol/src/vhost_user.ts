/**
 * vhost-user protocol constants, names and values as in QEMU docs/interop/vhost-user.rst
 * ("Message Specification", "Protocol features", "Communication"). Older revisions call the
 * backend "slave": those names are spelled BACKEND_* here. All numbers are little-endian
 * (machine order on x86-64 and aarch64).
 */

/** Header flags, bits 0-1: the protocol version (currently 1). */
export const VHOST_USER_VERSION = 0x1;
/** Header flags: mask of the version bits. */
export const VHOST_USER_VERSION_MASK = 0x3;
/** Header flags, bit 2: set on every reply from the backend. */
export const VHOST_USER_REPLY_MASK = 0x4;
/** Header flags, bit 3: the frontend asks for a REPLY_ACK (u64 0 = success). */
export const VHOST_USER_NEED_REPLY_MASK = 0x8;
/** Bytes of the header: u32 request, u32 flags, u32 size. */
export const VHOST_USER_HDR_SIZE = 12;

/** Largest payload vnic accepts in a message (rust-vmm vhost's MAX_MSG_SIZE); larger sizes are a protocol error. */
export const VHOST_USER_MAX_PAYLOAD_SIZE = 0x1000;
/** Most fds one message may carry (rust-vmm vhost's MAX_ATTACHED_FD_ENTRIES). */
export const VHOST_USER_MAX_FDS = 32;
/** Regions a SET_MEM_TABLE message carries at most (VHOST_MEMORY_BASELINE_NREGIONS). */
export const VHOST_MEMORY_BASELINE_NREGIONS = 8;
/** Largest config space a GET_CONFIG/SET_CONFIG message carries (QEMU VHOST_USER_MAX_CONFIG_SIZE). */
export const VHOST_USER_MAX_CONFIG_SIZE = 256;

/** Virtio feature bit a backend sets when it speaks GET/SET_PROTOCOL_FEATURES (the reserved bit 30). */
export const VHOST_USER_F_PROTOCOL_FEATURES = 30;
/** Virtio feature bit: the backend logs the guest pages it writes into the dirty log (migration). */
export const VHOST_F_LOG_ALL = 26;
/** Bytes of guest-physical space one bit of the dirty log covers (vhost-user.rst "Migration"). */
export const VHOST_LOG_PAGE = 0x1000;

/** SET_VRING_KICK/CALL/ERR u64: bits 0-7 are the vring index. */
export const VHOST_USER_VRING_IDX_MASK = 0xff;
/** SET_VRING_KICK/CALL/ERR u64: bit 8 says no fd is attached (poll instead). */
export const VHOST_USER_VRING_NOFD_MASK = 0x100;
/** vring address flags: bit number of "log used-ring writes" (linux/vhost_types.h VHOST_VRING_F_LOG; the mask is 1 << 0). */
export const VHOST_VRING_F_LOG = 0;

/** Payload sizes of the fixed layouts. */
export const VHOST_USER_U64_SIZE = 8;
/** struct vhost_vring_state: u32 index, u32 num. */
export const VHOST_USER_VRING_STATE_SIZE = 8;
/** struct vhost_vring_addr: u32 index, u32 flags, u64 desc, u64 used, u64 avail, u64 log. */
export const VHOST_USER_VRING_ADDR_SIZE = 40;
/** VhostUserMemory header: u32 nregions, u32 padding. */
export const VHOST_USER_MEMORY_HDR_SIZE = 8;
/** VhostUserMemoryRegion: u64 guest_phys_addr, memory_size, userspace_addr, mmap_offset. */
export const VHOST_USER_MEMORY_REGION_SIZE = 32;
/** Log description (SET_LOG_BASE): u64 mmap_size, u64 mmap_offset. */
export const VHOST_USER_LOG_SIZE = 16;
/** VhostUserConfig header: u32 offset, u32 size, u32 flags. */
export const VHOST_USER_CONFIG_HDR_SIZE = 12;

/** Protocol feature: multiple queues (GET_QUEUE_NUM). */
export const VHOST_USER_PROTOCOL_F_MQ = 0;
/** Protocol feature: the dirty log is shared memory (SET_LOG_BASE carries an fd). */
export const VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1;
/** Protocol feature: SEND_RARP after migration. */
export const VHOST_USER_PROTOCOL_F_RARP = 2;
/** Protocol feature: NEED_REPLY on any request, answered with a u64 (0 = success). */
export const VHOST_USER_PROTOCOL_F_REPLY_ACK = 3;
/** Protocol feature: NET_SET_MTU. */
export const VHOST_USER_PROTOCOL_F_MTU = 4;
/** Protocol feature: the backend-initiated channel (SET_BACKEND_REQ_FD); "SLAVE_REQ" in older revisions. */
export const VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5;
/** Protocol feature: SET_VRING_ENDIAN for legacy cross-endian devices. */
export const VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6;
/** Protocol feature: crypto sessions. */
export const VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7;
/** Protocol feature: postcopy migration (userfaultfd). */
export const VHOST_USER_PROTOCOL_F_PAGEFAULT = 8;
/** Protocol feature: GET_CONFIG/SET_CONFIG and CONFIG_CHANGE_MSG. */
export const VHOST_USER_PROTOCOL_F_CONFIG = 9;
/** Protocol feature: the backend channel carries fds; "SLAVE_SEND_FD" in older revisions. */
export const VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10;
/** Protocol feature: VRING_HOST_NOTIFIER_MSG. */
export const VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11;
/** Protocol feature: GET/SET_INFLIGHT_FD. */
export const VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12;
/** Protocol feature: RESET_DEVICE. */
export const VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13;
/** Protocol feature: kicks and calls as messages (VRING_KICK, VRING_CALL). */
export const VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14;
/** Protocol feature: GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG. */
export const VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15;
/** Protocol feature: SET_STATUS/GET_STATUS (the virtio device status byte). */
export const VHOST_USER_PROTOCOL_F_STATUS = 16;
