/**
 * Environment variable that picks the TX engine of the IO threads started after it is set:
 * `writev` writes one frame per writev(2) call; anything else (the default) uses io_uring, one
 * io_uring_enter per batch of up to 64 frames, and falls back to writev where io_uring_setup fails
 * (kernel.io_uring_disabled, seccomp, ENOSYS). `vnic bench virtio-net` compares the two this way.
 */
export const TX_ENGINE_ENV = 'VNIC_VIRTIO_NET_TX';
