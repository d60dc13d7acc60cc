import { VIRTIO_NET_HDR_SIZE, VIRTIO_NET_MAX_FRAME } from '@vnic/core/virtio_net';

// Limits and epoll tags shared by QueuePairLoop, TxPath and RxPath (one IO thread's data plane).

/** virtio_net_hdr bytes in front of every frame. */
export const HDR = VIRTIO_NET_HDR_SIZE;
/** Ethernet header bytes. */
export const ETH_HLEN = 14;
/** Largest frame either way, virtio_net_hdr included. */
export const MAX_FRAME = VIRTIO_NET_MAX_FRAME;
/** iovecs per readv/writev (IOV_MAX). */
export const IOV_MAX = 1024;
/**
 * Most guest buffers one RX readv takes: IOV_MAX less the bounce buffer (MRG_RXBUF) and the
 * overflow byte. A chain with more buffers could never be read into; the pool refuses it.
 */
export const RX_MAX_BUFFERS = IOV_MAX - 2;
/**
 * How long an IO thread's kernel SQ thread (VirtioNetOptions.txSqPoll) polls its rings after
 * the last SQE before it sleeps, in milliseconds: under a stream of frames it never sleeps (no
 * wake-up syscall); an idle NIC costs at most this much spinning after its last frame.
 */
export const SQ_THREAD_IDLE_MS = 10;
/** Chains (TX) or frames (RX) handled per turn before the other direction gets a turn. */
export const BUDGET = 256;
/**
 * Chains (TX) or frames (RX) after which the used ring is published (and the guest notified if it
 * asked): within a turn the guest gets its buffers back in these steps, so it can refill the ring
 * while the device goes on instead of finding it empty at the end of a turn (a ring of 256 would
 * otherwise be drained completely before the guest saw a single used buffer).
 */
export const USED_BATCH = 64;

// epoll data of each watched fd.
export const EV_CONTROL = 0;
export const EV_RX_KICK = 1;
export const EV_TX_KICK = 2;
export const EV_TAP = 3;
export const EV_CTRL_KICK = 4;
/** The tap has room again (TxPath waits for EPOLLOUT on a duplicate of the tap fd). */
export const EV_TAP_WRITABLE = 5;
/** The RX queue's coalescing timer expired (QueueNotifier). */
export const EV_RX_COAL_TIMER = 6;
/** The TX queue's coalescing timer expired (QueueNotifier). */
export const EV_TX_COAL_TIMER = 7;
