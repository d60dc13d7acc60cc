/**
 * The VIRTIO_NET_CTRL_RX commands (virtio 1.2 §5.1.6.5.1), indexed by command number:
 * PROMISC 0, ALLMULTI 1 (VIRTIO_NET_F_CTRL_RX), ALLUNI 2, NOMULTI 3, NOUNI 4, NOBCAST 5
 * (VIRTIO_NET_F_CTRL_RX_EXTRA).
 */
export type NetCtrlRxMode = 'promisc' | 'allmulti' | 'alluni' | 'nomulti' | 'nouni' | 'nobcast';
