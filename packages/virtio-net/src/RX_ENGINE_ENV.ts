/**
 * Environment variable that picks the RX engine of the IO threads started after it is set:
 * `readv` reads one frame per readv(2) call; anything else (the default) reads batches of frames
 * with io_uring (one READV per posted receive chain, all reaped by one io_uring_enter, see
 * RxUringBatch) and falls back to readv where io_uring_setup fails or the tap refuses RWF_NOWAIT
 * from io_uring (Linux 6.1's tun). `vnic bench virtio-net` compares the two this way.
 */
export const RX_ENGINE_ENV = 'VNIC_VIRTIO_NET_RX';
