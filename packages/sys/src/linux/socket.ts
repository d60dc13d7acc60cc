/**
 * AF_UNIX sockets, SCM_RIGHTS and the msghdr/cmsghdr layouts of 64-bit Linux, names and values
 * as in linux/socket.h, asm-generic/socket.h, linux/un.h and bits/socket.h (checked with
 * offsetof/sizeof against glibc on x86-64).
 */

/** Local (unix domain) sockets. */
export const AF_UNIX = 1;
/** Reliable byte stream. */
export const SOCK_STREAM = 1;
/** Datagrams. */
export const SOCK_DGRAM = 2;
/** socket/accept4 type flag: close on exec. */
export const SOCK_CLOEXEC = 0o2000000;
/** socket/accept4 type flag: non-blocking. */
export const SOCK_NONBLOCK = 0o4000;

/** cmsg_level of socket-level control messages. */
export const SOL_SOCKET = 1;
/** cmsg_type: the data is an array of fds to pass. */
export const SCM_RIGHTS = 1;

/** msg_flags: control data was truncated (fds were dropped by the kernel). */
export const MSG_CTRUNC = 0x8;
/** msg_flags: datagram data was truncated. */
export const MSG_TRUNC = 0x20;
/** sendmsg: do not raise SIGPIPE on a closed peer (EPIPE instead). */
export const MSG_NOSIGNAL = 0x4000;
/** sendmsg/recvmsg flag: do not block (EAGAIN instead), for this call only. */
export const MSG_DONTWAIT = 0x40;
/** recvmsg: set close-on-exec on every received fd. */
export const MSG_CMSG_CLOEXEC = 0x40000000;

/** shutdown: both directions (wakes up threads blocked in recvmsg/accept). */
export const SHUT_RDWR = 2;

/** sizeof(struct sockaddr_un): sun_family (2 bytes) + sun_path[108]. */
export const SOCKADDR_UN_SIZE = 110;
/** Longest sun_path that leaves room for the terminating NUL. */
export const UNIX_PATH_MAX = 107;

/** sizeof(struct msghdr). */
export const MSGHDR_SIZE = 56;
/** offsetof(struct msghdr, msg_iov). */
export const MSGHDR_IOV = 16;
/** offsetof(struct msghdr, msg_iovlen). */
export const MSGHDR_IOVLEN = 24;
/** offsetof(struct msghdr, msg_control). */
export const MSGHDR_CONTROL = 32;
/** offsetof(struct msghdr, msg_controllen). */
export const MSGHDR_CONTROLLEN = 40;
/** offsetof(struct msghdr, msg_flags). */
export const MSGHDR_FLAGS = 48;
/** sizeof(struct cmsghdr): cmsg_len (size_t), cmsg_level, cmsg_type; data follows. */
export const CMSGHDR_SIZE = 16;
/** sizeof(struct iovec): iov_base, iov_len. */
export const IOVEC_SIZE = 16;
/** Most iovecs one readv/writev/sendmsg takes (IOV_MAX). */
export const IOV_MAX = 1024;
/** Most fds vnic sends or receives in one message (vhost-user sends at most 32 per message). */
export const SCM_MAX_FDS = 32;
