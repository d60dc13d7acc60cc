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
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED_F_NO_NOTIFY,
  featureBit,
  hasFeature,
} from './defs/virtio.ts';

export { VnicError } from './errors/VnicError.ts';
export { token } from './di/token.ts';
export type { Token } from './di/token.ts';

export { GuestMemory } from './memory/GuestMemory.ts';
export type { GuestMemoryRegionInit, RegionViewer } from './memory/GuestMemory.ts';
export type { GuestMemoryLayout, GuestMemoryRegionLayout } from './memory/GuestMemoryLayout.ts';
export type { GuestMemoryRegion } from './memory/GuestMemoryRegion.ts';

export { ChainError } from './queue/ChainError.ts';
export type { ChainErrorMessage } from './queue/ChainError.ts';
export type { Descriptor } from './queue/Descriptor.ts';
export { DescriptorChain } from './queue/DescriptorChain.ts';
export type { QueueState } from './queue/QueueState.ts';
export { SplitQueue } from './queue/SplitQueue.ts';
export type { SplitQueueConfig } from './queue/SplitQueueConfig.ts';

export type { ActivateContext } from './device/ActivateContext.ts';
export type { ConfigIssue } from './device/ConfigIssue.ts';
export type { DeviceEvents } from './device/DeviceEvents.ts';
export type { NetDeviceConfig } from './device/NetDeviceConfig.ts';
export type { NetDeviceProvider } from './device/NetDeviceProvider.ts';
export type { NetOffloads } from './device/NetOffloads.ts';
export type { QueueContext } from './device/QueueContext.ts';
export type { QueueStats } from './device/QueueStats.ts';
export { TypedEmitter } from './device/TypedEmitter.ts';
export type { VirtioNetDevice } from './device/VirtioNetDevice.ts';

export type { VhostControlPlane } from './vhost/VhostControlPlane.ts';
export type { VhostVringAddr } from './vhost/VhostVringAddr.ts';

export { NET_BACKEND_NAME, NET_DEVICE_PROVIDER } from './di/tokens.ts';
export { netBackendModule } from './di/netBackendModule.ts';
