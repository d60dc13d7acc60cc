import { hasFeature, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC } from '@vnic/core';
import { VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_MRG_RXBUF } from '@vnic/core/virtio_net';
import type { IoWorkerData } from './IoWorkerData.ts';
import { RX_ENGINE_ENV } from './RX_ENGINE_ENV.ts';
import { TX_ENGINE_ENV } from './TX_ENGINE_ENV.ts';

/**
 * The IoWorkerData flags that follow the acked features (EVENT_IDX, INDIRECT_DESC, MRG_RXBUF,
 * GUEST_CSUM), plus the TX and RX engines (io_uring unless VNIC_VIRTIO_NET_TX=writev / VNIC_VIRTIO_NET_RX=readv): every server of
 * the in-process data plane starts its IO threads the same way.
 */
export function ioWorkerFeatures(features: bigint): Pick<IoWorkerData, 'eventIdx' | 'indirectDesc' | 'mrgRxbuf' | 'guestCsum' | 'txIoUring' | 'rxIoUring'> {
  return {
    txIoUring: process.env[TX_ENGINE_ENV] !== 'writev',
    rxIoUring: process.env[RX_ENGINE_ENV] !== 'readv',
    eventIdx: hasFeature(features, VIRTIO_F_EVENT_IDX),
    indirectDesc: hasFeature(features, VIRTIO_F_INDIRECT_DESC),
    mrgRxbuf: hasFeature(features, VIRTIO_NET_F_MRG_RXBUF),
    guestCsum: hasFeature(features, VIRTIO_NET_F_GUEST_CSUM),
  };
}
