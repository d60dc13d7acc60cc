// @vnic/core public surface. Explicit barrel: `export type` for types, no `export *`.
// Spec definitions are whole modules re-exported as namespaces-with-names below.

export * as virtio from './defs/virtio.ts';
export * as virtio_net from './defs/virtio_net.ts';
export {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_NOTIF_CONFIG_DATA,
  VIRTIO_F_ORDER_PLATFORM,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_SR_IOV,
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_NET,
  RING_EVENT_FLAGS_DESC,
  RING_EVENT_FLAGS_DISABLE,
  RING_EVENT_FLAGS_ENABLE,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_AVAIL,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_USED,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_MAX_SIZE,
  VIRTQ_PACKED_MAX_SIZE,
  VIRTQ_USED_F_NO_NOTIFY,
  featureBit,
  hasFeature,
} from './defs/virtio.ts';
export { featureBits } from './defs/featureBits.ts';

export { VnicError } from './errors/VnicError.ts';
export { WarningCoalescer } from './events/WarningCoalescer.ts';
export type { WarningClock, WarningCoalescerOptions } from './events/WarningCoalescer.ts';
export { errorMessage } from './errors/errorMessage.ts';
export { token } from './di/token.ts';
export type { Token } from './di/token.ts';

export { GuestMemory } from './memory/GuestMemory.ts';
export type { GuestMemoryBytesInit, GuestMemoryRegionInit, GuestMemoryViewInit, RegionViewer } from './memory/GuestMemory.ts';
export type { GuestMemoryLayout, GuestMemoryRegionLayout } from './memory/GuestMemoryLayout.ts';
export type { GuestMemoryRegion } from './memory/GuestMemoryRegion.ts';
export type { GuestMemoryRegionInfo } from './memory/GuestMemoryRegionInfo.ts';
export { DEFAULT_GUEST_MEMORY_WINDOWS } from './memory/GuestMemoryWindows.ts';
export type { GuestMemoryWindows } from './memory/GuestMemoryWindows.ts';

export { DirtyLog } from './dirtylog/DirtyLog.ts';
export type { DirtyLogInit } from './dirtylog/DirtyLog.ts';
export type { DirtyLogShare } from './dirtylog/DirtyLogShare.ts';
export { DIRTY_LOG_PAGE_SIZE } from './dirtylog/DIRTY_LOG_PAGE_SIZE.ts';
export { dirtyLogSize } from './dirtylog/dirtyLogSize.ts';
export { markArenaWritten } from './dirtylog/markArenaWritten.ts';
export { markChainWritten } from './dirtylog/markChainWritten.ts';

export { ChainArena } from './queue/ChainArena.ts';
export { ChainError } from './queue/ChainError.ts';
export type { ChainErrorMessage } from './queue/ChainError.ts';
export type { Descriptor } from './queue/Descriptor.ts';
export { DescriptorChain } from './queue/DescriptorChain.ts';
export type { QueueState } from './queue/QueueState.ts';
export { AvailPoll } from './queue/AvailPoll.ts';
export { SplitQueue } from './queue/SplitQueue.ts';
export { splitQueueFor } from './queue/splitQueueFor.ts';
export { deviceQueueFor } from './queue/deviceQueueFor.ts';
export type { SplitQueueConfig } from './queue/SplitQueueConfig.ts';
export type { DeviceQueue } from './queue/DeviceQueue.ts';
export { PackedQueue } from './queue/PackedQueue.ts';
export type { PackedQueueConfig } from './queue/PackedQueueConfig.ts';
export { packedQueueFor } from './queue/packedQueueFor.ts';
export { packedVringBase } from './queue/packedVringBase.ts';
export { packedWraps } from './queue/packedWraps.ts';
export { PackedDesc } from './queue/PackedDesc.ts';
export { packedNeedEvent } from './queue/packedNeedEvent.ts';

export type { ActivateContext } from './device/ActivateContext.ts';
export type { ConfigIssue } from './device/ConfigIssue.ts';
export { formatConfigIssues } from './device/formatConfigIssues.ts';
export type { DeviceEvents } from './device/DeviceEvents.ts';
export type { NetDeviceConfig } from './device/NetDeviceConfig.ts';
export type { NetDeviceProvider } from './device/NetDeviceProvider.ts';
export type { NetOffloads } from './device/NetOffloads.ts';
export { DEFAULT_NET_OFFLOADS } from './device/DEFAULT_NET_OFFLOADS.ts';
export { validateTapOptions } from './device/validateTapOptions.ts';
export { validateFdList } from './device/validateFdList.ts';
export type { QueueContext } from './device/QueueContext.ts';
export type { QueueStats } from './device/QueueStats.ts';
export { TypedEmitter } from './device/TypedEmitter.ts';
export type { VirtioNetDevice } from './device/VirtioNetDevice.ts';
export type { NetCtrlSnapshot, NetDeviceState, NetDeviceStateConfig, NetQueueSnapshot } from './device/state/NetDeviceState.ts';
export type { RestoreContext } from './device/state/RestoreContext.ts';
export type { PrepareContext } from './device/state/PrepareContext.ts';
export { NET_DEVICE_STATE_VERSION } from './device/state/NET_DEVICE_STATE_VERSION.ts';
export { parseNetDeviceState } from './device/state/parseNetDeviceState.ts';
export type { ParsedNetDeviceState } from './device/state/parseNetDeviceState.ts';
export { featureNames } from './device/state/featureNames.ts';

export type { VhostControlPlane } from './vhost/VhostControlPlane.ts';
export type { VhostVringAddr } from './vhost/VhostVringAddr.ts';
export { vringUserAddr } from './vhost/vringUserAddr.ts';
export { programVhostVrings, stopVhostVrings, usedIndex, vhostBackendMask } from './vhost/VhostVrings.ts';
export type { VhostVringsOptions } from './vhost/VhostVrings.ts';

export { LOGGER, NET_BACKEND_NAME, NET_DEVICE_PROVIDER } from './di/tokens.ts';
export type { Logger, LogFields } from './logging/Logger.ts';
export { silentLogger } from './logging/silentLogger.ts';
export { stderrLogger } from './logging/stderrLogger.ts';
export { SerialQueue } from './serial/SerialQueue.ts';
export { TokenBucket } from './ratelimit/TokenBucket.ts';
export type { TokenBucketConfig } from './ratelimit/TokenBucketConfig.ts';
export { RateLimiter } from './ratelimit/RateLimiter.ts';
export type { RateLimitConfig } from './ratelimit/RateLimitConfig.ts';
export type { NetRateLimit } from './ratelimit/NetRateLimit.ts';
export { isRateLimited } from './ratelimit/isRateLimited.ts';
export { netBackendModule } from './di/netBackendModule.ts';

export * as virtio_mmio from './defs/virtio_mmio.ts';
export {
  VIRTIO_MMIO_CONFIG,
  VIRTIO_MMIO_CONFIG_GENERATION,
  VIRTIO_MMIO_DEVICE_FEATURES,
  VIRTIO_MMIO_DEVICE_FEATURES_SEL,
  VIRTIO_MMIO_DEVICE_ID,
  VIRTIO_MMIO_DRIVER_FEATURES,
  VIRTIO_MMIO_DRIVER_FEATURES_SEL,
  VIRTIO_MMIO_INTERRUPT_ACK,
  VIRTIO_MMIO_INTERRUPT_STATUS,
  VIRTIO_MMIO_INT_CONFIG,
  VIRTIO_MMIO_INT_VRING,
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_MAGIC_VALUE,
  VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
  VIRTIO_MMIO_QUEUE_AVAIL_LOW,
  VIRTIO_MMIO_QUEUE_DESC_HIGH,
  VIRTIO_MMIO_QUEUE_DESC_LOW,
  VIRTIO_MMIO_QUEUE_NOTIFY,
  VIRTIO_MMIO_QUEUE_NUM,
  VIRTIO_MMIO_QUEUE_NUM_MAX,
  VIRTIO_MMIO_QUEUE_READY,
  VIRTIO_MMIO_QUEUE_RESET,
  VIRTIO_MMIO_QUEUE_SEL,
  VIRTIO_MMIO_QUEUE_USED_HIGH,
  VIRTIO_MMIO_QUEUE_USED_LOW,
  VIRTIO_MMIO_SHM_BASE_HIGH,
  VIRTIO_MMIO_SHM_BASE_LOW,
  VIRTIO_MMIO_SHM_LEN_HIGH,
  VIRTIO_MMIO_SHM_LEN_LOW,
  VIRTIO_MMIO_SHM_SEL,
  VIRTIO_MMIO_STATUS,
  VIRTIO_MMIO_VENDOR_ID,
  VIRTIO_MMIO_VERSION,
  VIRTIO_MMIO_VERSION_2,
} from './defs/virtio_mmio.ts';

export { decodeVirtioNetHdr } from './net/decodeVirtioNetHdr.ts';
export { encodeVirtioNetHdr } from './net/encodeVirtioNetHdr.ts';
export type { VirtioNetHdr } from './net/VirtioNetHdr.ts';
export {
  VIRTIO_NET_CONFIG_DUPLEX_OFFSET,
  VIRTIO_NET_CONFIG_MAC_OFFSET,
  VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS_OFFSET,
  VIRTIO_NET_CONFIG_MTU_OFFSET,
  VIRTIO_NET_CONFIG_SIZE,
  VIRTIO_NET_CONFIG_SPEED_OFFSET,
  VIRTIO_NET_CONFIG_STATUS_OFFSET,
  VIRTIO_NET_DUPLEX_FULL,
  VIRTIO_NET_DUPLEX_HALF,
  VIRTIO_NET_DUPLEX_UNKNOWN,
  VIRTIO_NET_SPEED_UNKNOWN,
} from './net/VirtioNetConfig.ts';
export type { VirtioNetConfig } from './net/VirtioNetConfig.ts';
export { decodeVirtioNetConfig } from './net/decodeVirtioNetConfig.ts';
export { encodeVirtioNetConfig } from './net/encodeVirtioNetConfig.ts';
export type { NetCtrlCommand } from './net/NetCtrlCommand.ts';
export type { NetCtrlDecodeResult } from './net/NetCtrlDecodeResult.ts';
export { NetCtrlError } from './net/NetCtrlError.ts';
export type { NetCtrlErrorMessage } from './net/NetCtrlError.ts';
export type { NetCtrlRxMode } from './net/NetCtrlRxMode.ts';
export type { NetCtrlState } from './net/NetCtrlState.ts';
export { initialNetCtrlState } from './net/initialNetCtrlState.ts';
export { decodeNetCtrlCommand } from './net/decodeNetCtrlCommand.ts';
export { encodeNetCtrlCommand } from './net/encodeNetCtrlCommand.ts';
export { rxFilterAccepts } from './net/rxFilterAccepts.ts';
export { placeRxFrame } from './net/placeRxFrame.ts';
export type { NetFeatureRule } from './net/NetFeatureRule.ts';
export { netFeatureRules } from './net/netFeatureRules.ts';
export { checkNetFeatures } from './net/checkNetFeatures.ts';
export { pruneNetFeatures } from './net/pruneNetFeatures.ts';
export { guestOffloadFeatures } from './net/guestOffloadFeatures.ts';
export { netDeviceFeatures } from './net/netDeviceFeatures.ts';
export { NET_CTRL_FEATURES } from './net/NET_CTRL_FEATURES.ts';
export { NOTF_COAL_FEATURES } from './net/NOTF_COAL_FEATURES.ts';
export { NOTF_COAL_MAX_USECS } from './net/NOTF_COAL_MAX_USECS.ts';
export { notfCoalOf } from './net/notfCoalOf.ts';
export { coalescingFor } from './net/coalescingFor.ts';
export { checkCoalescing } from './device/checkCoalescing.ts';
export type { NetCoalescing } from './device/NetCoalescing.ts';
export type { NetCoalParams } from './net/NetCoalParams.ts';
export type { NetNotfCoal, NetCoalVq } from './net/NetNotfCoal.ts';
export { NotifyCoalescer } from './net/NotifyCoalescer.ts';
export { offeredQueuePairs } from './net/offeredQueuePairs.ts';

export { NetDeviceBase } from './device/NetDeviceBase.ts';
export { ControlQueue } from './device/ControlQueue.ts';
export type { ControlQueueOptions } from './device/ControlQueue.ts';
export type { QueueHost } from './device/QueueHost.ts';
export { NetConfigSpace } from './device/NetConfigSpace.ts';
export type { NetConfigFields } from './device/NetConfigSpace.ts';
export { netDeviceOffer } from './device/netDeviceOffer.ts';
export type { NetDeviceOffer } from './device/netDeviceOffer.ts';
export { validateActivateContext } from './device/validateActivateContext.ts';
export type { ActivateLimits } from './device/validateActivateContext.ts';
export { NetCtrlHandler } from './net/NetCtrlHandler.ts';
export type { NetCtrlHost } from './net/NetCtrlHandler.ts';
export type { NetCtrlCounters } from './device/NetCtrlCounters.ts';

export { VirtioMmioTransport } from './mmio/VirtioMmioTransport.ts';
export type { VirtioMmioTransportOptions } from './mmio/VirtioMmioTransportOptions.ts';
export { DriverQueue } from './queue/DriverQueue.ts';
export type { DriverAddOptions, DriverBuffer, DriverQueueConfig, DriverQueueLayout, RawDescriptor, UsedElement } from './queue/DriverQueue.ts';
export { PackedDriverQueue } from './queue/PackedDriverQueue.ts';
export type { PackedDriverQueueConfig, PackedDriverQueueLayout, RawPackedDescriptor } from './queue/PackedDriverQueue.ts';
