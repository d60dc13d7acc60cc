import { hasFeature, VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@vnic/core';
import { VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_MRG_RXBUF } from '@vnic/core/virtio_net';
import type { IoWorkerData } from './IoWorkerData.ts';
import { RX_ENGINE_ENV } from './RX_ENGINE_ENV.ts';
import { TX_ENGINE_ENV } from './TX_ENGINE_ENV.ts';

/**
 * The IoWorkerData flags that follow the acked features (EVENT_IDX, INDIRECT_DESC, RING_PACKED,
 * IN_ORDER, MRG_RXBUF, GUEST_CSUM), plus the TX and RX engines (io_uring unless VNIC_VIRTIO_NET_TX=writev /
 * VNIC_VIRTIO_NET_RX=readv; SQPOLL for every NIC with VNIC_VIRTIO_NET_TX=sqpoll): every server of the in-process data plane starts its IO threads the same way.
 */
export function ioWorkerFeatures(
  features: bigint,
): Pick<IoWorkerData, 'eventIdx' | 'indirectDesc' | 'ringPacked' | 'inOrder' | 'mrgRxbuf' | 'guestCsum' | 'txIoUring' | 'rxIoUring' | 'txSqPoll'> {
  return {
    txIoUring: process.env[TX_ENGINE_ENV] !== 'writev',
    ...(process.env[TX_ENGINE_ENV] === 'sqpoll' ? { txSqPoll: true } : {}),
    rxIoUring: process.env[RX_ENGINE_ENV] !== 'readv',
    eventIdx: hasFeature(features, VIRTIO_F_EVENT_IDX),
    indirectDesc: hasFeature(features, VIRTIO_F_INDIRECT_DESC),
    ringPacked: hasFeature(features, VIRTIO_F_RING_PACKED),
    inOrder: hasFeature(features, VIRTIO_F_IN_ORDER),
    mrgRxbuf: hasFeature(features, VIRTIO_NET_F_MRG_RXBUF),
    guestCsum: hasFeature(features, VIRTIO_NET_F_GUEST_CSUM),
  };
}
