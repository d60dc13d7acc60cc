/**
 * Kernel vhost ioctls and struct layouts, names and values as in linux/vhost.h and
 * linux/vhost_types.h (include/uapi/linux/). Request numbers are the x86-64/aarch64 `_IO`/`_IOR`/
 * `_IOW`/`_IOWR` encodings with VHOST_VIRTIO = 0xAF: dir << 30 | size << 16 | 0xAF << 8 | nr.
 */

/** The ioctl type byte of every vhost request. */
export const VHOST_VIRTIO = 0xaf;

/** `_IOR(VHOST_VIRTIO, 0x00, __u64)`: the features the backend supports (u64 *). */
export const VHOST_GET_FEATURES = 0x8008af00;
/** `_IOW(VHOST_VIRTIO, 0x00, __u64)`: the features to use (u64 *). */
export const VHOST_SET_FEATURES = 0x4008af00;
/** `_IO(VHOST_VIRTIO, 0x01)`: claim the device for this process (its mm and a worker thread). */
export const VHOST_SET_OWNER = 0x0000af01;
/** `_IO(VHOST_VIRTIO, 0x02)`: give the device up (stops the worker, drops the memory table). */
export const VHOST_RESET_OWNER = 0x0000af02;
/** `_IOW(VHOST_VIRTIO, 0x03, struct vhost_memory)`: the guest memory map (struct vhost_memory *). */
export const VHOST_SET_MEM_TABLE = 0x4008af03;
/**
 * `_IOW(VHOST_VIRTIO, 0x04, __u64)`: the dirty log's address in this process (u64 *); with
 * VHOST_F_LOG_ALL the kernel sets bit `page % 8` of byte `log_base + page / 8` for every 4 KiB
 * guest-physical page it writes (drivers/vhost/vhost.c log_write); 0 drops the pointer.
 */
export const VHOST_SET_LOG_BASE = 0x4008af04;
/** `_IOW(VHOST_VIRTIO, 0x10, struct vhost_vring_state)`: ring size. */
export const VHOST_SET_VRING_NUM = 0x4008af10;
/** `_IOW(VHOST_VIRTIO, 0x11, struct vhost_vring_addr)`: ring addresses (process virtual). */
export const VHOST_SET_VRING_ADDR = 0x4028af11;
/** `_IOW(VHOST_VIRTIO, 0x12, struct vhost_vring_state)`: the next avail index to process. */
export const VHOST_SET_VRING_BASE = 0x4008af12;
/** `_IOWR(VHOST_VIRTIO, 0x12, struct vhost_vring_state)`: read back the next avail index. */
export const VHOST_GET_VRING_BASE = 0xc008af12;
/** `_IOW(VHOST_VIRTIO, 0x20, struct vhost_vring_file)`: eventfd the guest kicks (-1 unbinds). */
export const VHOST_SET_VRING_KICK = 0x4008af20;
/** `_IOW(VHOST_VIRTIO, 0x21, struct vhost_vring_file)`: eventfd vhost signals for used buffers (-1 unbinds). */
export const VHOST_SET_VRING_CALL = 0x4008af21;
/** `_IOW(VHOST_VIRTIO, 0x22, struct vhost_vring_file)`: eventfd vhost signals on ring errors (-1 unbinds). */
export const VHOST_SET_VRING_ERR = 0x4008af22;
/** `_IOW(VHOST_VIRTIO, 0x30, struct vhost_vring_file)`: the socket (tap fd) of a vring; -1 detaches. */
export const VHOST_NET_SET_BACKEND = 0x4008af30;

/** vhost_vring_file.fd value that unbinds (kick, call, err) or detaches (backend). */
export const VHOST_FILE_UNBIND = -1;
/** vhost_vring_addr.flags: log writes to the used ring. */
export const VHOST_VRING_F_LOG = 0;

/** Feature bit: log all writes to guest memory (migration). */
export const VHOST_F_LOG_ALL = 26;
/** Feature bit: vhost adds/strips the virtio_net_hdr itself (the socket then has none). */
export const VHOST_NET_F_VIRTIO_NET_HDR = 27;

/** `struct vhost_vring_state { unsigned int index; unsigned int num; }`: 8 bytes. */
export const VHOST_VRING_STATE_SIZE = 8;
/** `struct vhost_vring_file { unsigned int index; int fd; }`: 8 bytes. */
export const VHOST_VRING_FILE_SIZE = 8;
/**
 * `struct vhost_vring_addr { unsigned int index; unsigned int flags; __u64 desc_user_addr;
 * __u64 used_user_addr; __u64 avail_user_addr; __u64 log_guest_addr; }`: 40 bytes; these offsets.
 */
export const VHOST_VRING_ADDR_SIZE = 40;
/** Offset of vhost_vring_addr.flags. */
export const VHOST_VRING_ADDR_FLAGS = 4;
/** Offset of vhost_vring_addr.desc_user_addr. */
export const VHOST_VRING_ADDR_DESC = 8;
/** Offset of vhost_vring_addr.used_user_addr. */
export const VHOST_VRING_ADDR_USED = 16;
/** Offset of vhost_vring_addr.avail_user_addr. */
export const VHOST_VRING_ADDR_AVAIL = 24;
/** Offset of vhost_vring_addr.log_guest_addr. */
export const VHOST_VRING_ADDR_LOG = 32;
/** `struct vhost_memory { __u32 nregions; __u32 padding; struct vhost_memory_region regions[]; }`: 8-byte header. */
export const VHOST_MEMORY_SIZE = 8;
/**
 * `struct vhost_memory_region { __u64 guest_phys_addr; __u64 memory_size; __u64 userspace_addr;
 * __u64 flags_padding; }`: 32 bytes; fields in that order.
 */
export const VHOST_MEMORY_REGION_SIZE = 32;
/** Default of the vhost module's `max_mem_regions` parameter: more regions give E2BIG. */
export const VHOST_DEFAULT_MAX_MEM_REGIONS = 64;
