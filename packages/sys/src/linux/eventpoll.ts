/**
 * epoll flags and struct epoll_event, names and values as in linux/eventpoll.h.
 * struct epoll_event is packed on x86-64 (12 bytes, data at 4) and naturally aligned
 * elsewhere (16 bytes, data at 8).
 */

/** The fd is readable. */
export const EPOLLIN = 0x001;
/** The fd is writable. */
export const EPOLLOUT = 0x004;
/** Error condition (always reported). */
export const EPOLLERR = 0x008;
/** Hang up (always reported). */
export const EPOLLHUP = 0x010;
/** The peer closed its writing end (stream sockets). */
export const EPOLLRDHUP = 0x2000;
/** Report an event once, then disarm until EPOLL_CTL_MOD. */
export const EPOLLONESHOT = 0x40000000;
/** Edge-triggered. */
export const EPOLLET = 0x80000000;

/** epoll_create1 flag: close on exec. */
export const EPOLL_CLOEXEC = 0x80000;
/** epoll_ctl: register an fd. */
export const EPOLL_CTL_ADD = 1;
/** epoll_ctl: remove an fd. */
export const EPOLL_CTL_DEL = 2;
/** epoll_ctl: change the events or data of a registered fd. */
export const EPOLL_CTL_MOD = 3;

/** sizeof(struct epoll_event) on this architecture. */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
/** Offset of the 64-bit data field in struct epoll_event on this architecture. */
export const EPOLL_EVENT_DATA_OFFSET = process.arch === 'x64' ? 4 : 8;
