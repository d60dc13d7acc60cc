// @vnic/virtio-net public surface (explicit barrel): the in-process tap backend.
export { VirtioNetTapDevice } from './VirtioNetTapDevice.ts';
export type { VirtioNetOptions } from './VirtioNetOptions.ts';
export { VirtioNetError } from './VirtioNetError.ts';
export { validateVirtioNetOptions } from './validateVirtioNetOptions.ts';
export { virtioNetProvider } from './virtioNetProvider.ts';
export { virtioNetModule } from './virtioNetModule.ts';
export { shutdownIoThreads } from './shutdownIoThreads.ts';

// The in-process data plane, for servers that embed it (as @vnic/vhost-user-device does, the way
// cloud-hypervisor's vhost_user_net daemon embeds net_util's queue pair): one IoThread (job) per
// queue pair on the threads of an IoThreadPool, fed plain IoWorkerData and the shared counter/state blocks.
export { IoThread } from './IoThread.ts';
export { IoThreadPool } from './IoThreadPool.ts';
export type { PooledThread, PooledThreadJob } from './IoThreadPool.ts';
export type { IoThreadPoolOptions } from './IoThreadPoolOptions.ts';
export type { IoThreadMode } from './IoThreadMode.ts';
export { IO_THREAD_POOL } from './IO_THREAD_POOL.ts';
export { QueuePairThreads } from './QueuePairThreads.ts';
export type { QueuePairStart, QueuePairThreadsOptions } from './QueuePairThreads.ts';
export type { IoThreadHandlers, IoThreadStates } from './IoThread.ts';
export type { IoWorkerData } from './IoWorkerData.ts';
export { ioWorkerFeatures } from './ioWorkerFeatures.ts';
export { SharedQueueCounters } from './SharedQueueCounters.ts';
export type { QueueCounters } from './QueueCounters.ts';
export { SharedNetState } from './SharedNetState.ts';
export { SharedRateLimit } from './SharedRateLimit.ts';
export type { RateLimitCounters, RateDirection } from './SharedRateLimit.ts';
export { rateClockMs } from './rateClockMs.ts';
export { RATE_WAIT_MAX_MS } from './RATE_WAIT_MAX_MS.ts';
export { SharedCoalescing } from './SharedCoalescing.ts';
export { TX_ENGINE_ENV } from './TX_ENGINE_ENV.ts';
export { RX_ENGINE_ENV } from './RX_ENGINE_ENV.ts';
