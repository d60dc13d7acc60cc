// @vnic/sys public surface: the only package that imports koffi. Explicit barrel: `export type`
// for types, no `export *`. The raw libc bindings (native/libc.ts) are deliberately not exported.

export { SysError } from './SysError.ts';
export type { SysErrorInit } from './SysError.ts';
export { checkSys } from './checkSys.ts';
export { errnoDescription, errnoName } from './linux/errno.ts';

export { openFd } from './fd/openFd.ts';
export { closeFd } from './fd/closeFd.ts';
export { yieldCpu } from './yieldCpu.ts';
export { readFd } from './fd/readFd.ts';
export { writeFd } from './fd/writeFd.ts';
export { readvFd } from './fd/readvFd.ts';
export { writevFd } from './fd/writevFd.ts';
export { IoVecArray } from './fd/IoVecArray.ts';
export { setNonBlocking } from './fd/setNonBlocking.ts';
export { dupFd } from './fd/dupFd.ts';
export { fdKind, isEventFd } from './fd/fdKind.ts';
export { viewHostMemory } from './viewHostMemory.ts';
export { IoUring } from './uring/IoUring.ts';
export type { IoUringOptions } from './uring/IoUringOptions.ts';
export { SqPollGroup } from './uring/SqPollGroup.ts';
export { sqPollThreads } from './uring/sqPollThreads.ts';

export { EventFd } from './EventFd.ts';
export { TimerFd } from './TimerFd.ts';
export type { EventFdOptions } from './EventFd.ts';
export { Epoll } from './Epoll.ts';
export type { EpollEvent } from './Epoll.ts';
export { EpollLoop } from './EpollLoop.ts';
export { epollQueueHost } from './epollQueueHost.ts';
export type { EpollHandler } from './EpollLoop.ts';
export { EVENT_LOOP } from './EVENT_LOOP.ts';
export { sharedEpollLoop } from './sharedEpollLoop.ts';
export { leaseEventLoop } from './EventLoopLease.ts';
export type { EventLoopLease } from './EventLoopLease.ts';
export { EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLRDHUP } from './linux/eventpoll.ts';

export { Tap } from './Tap.ts';
export type { TapOpenOptions } from './Tap.ts';
export {
  IFF_MULTI_QUEUE,
  IFF_NO_PI,
  IFF_PERSIST,
  IFF_TAP,
  IFF_VNET_HDR,
  TUN_F_CSUM,
  TUN_F_TSO4,
  TUN_F_TSO6,
  TUN_F_TSO_ECN,
  TUN_F_UFO,
  TUN_F_USO4,
  TUN_F_USO6,
  TUN_FLT_ALLMULTI,
  TUN_FLT_EXACT_COUNT,
} from './linux/if_tun.ts';

export { openNetTap } from './tap/openNetTap.ts';
export type { NetTap, NetTapOptions } from './tap/openNetTap.ts';
export { tapBackendFeatures } from './tap/tapBackendFeatures.ts';
export { tunOffloadFlags } from './tap/tunOffloadFlags.ts';
export { tunTxFilter } from './tap/tunTxFilter.ts';

export * as vhost from './linux/vhost.ts';
export { VHOST_F_LOG_ALL, VHOST_NET_F_VIRTIO_NET_HDR, VHOST_VRING_F_LOG } from './linux/vhost.ts';
export { VHOST_NET_PATH, VhostNetFd } from './vhost/VhostNetFd.ts';
export type { VhostMemoryRegion, VhostVringAddrInit } from './vhost/VhostNetFd.ts';

export { PacketSocket } from './PacketSocket.ts';
export type { PacketSocketOptions } from './PacketSocket.ts';

export { MemfdGuestMemory } from './memory/MemfdGuestMemory.ts';
export type { MemfdGuestMemoryOptions } from './memory/MemfdGuestMemory.ts';
export { MemfdDirtyLog } from './memory/MemfdDirtyLog.ts';
export { mapGuestMemory } from './memory/mapGuestMemory.ts';
export type { MappedGuestMemory } from './memory/mapGuestMemory.ts';
export { guestMemoryFromLayout } from './memory/guestMemoryFromLayout.ts';
export { addFileSeals, fileSeals } from './memory/fileSeals.ts';
export { F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE } from './linux/fcntl.ts';

export { UnixSocket } from './unix/UnixSocket.ts';
export { socketpair } from './unix/socketpair.ts';
export type { SocketpairOptions } from './unix/socketpair.ts';
export { sendWithFds } from './unix/sendWithFds.ts';
export { recvWithFds } from './unix/recvWithFds.ts';
export type { RecvWithFdsResult } from './unix/recvWithFds.ts';
export { recvWithFdsAsync } from './unix/recvWithFdsAsync.ts';
