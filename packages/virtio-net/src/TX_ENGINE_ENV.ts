/**
 * Environment variable that picks the TX engine of the IO threads started after it is set:
 * `writev` writes one frame per writev(2) call; anything else (the default) uses io_uring, one
 * io_uring_enter per batch of up to 64 frames, and falls back to writev where io_uring_setup fails
 * (kernel.io_uring_disabled, seccomp, ENOSYS); `sqpoll` uses io_uring on the IO thread's kernel SQ
 * thread for every NIC, as if each had `txSqPoll: true` (the TX tests run in that mode this way).
 * `vnic bench virtio-net` compares the engines this way.
 */
export const TX_ENGINE_ENV = 'VNIC_VIRTIO_NET_TX';
