/**
 * The default longest poll window of an IO thread before it sleeps (IdlePoll), in microseconds.
 * QEMU's iothreads use 32; here a thread's wake-up alone (a kick or tap frame waking it on another
 * CPU of a VM) took 30-60 us, and the window only grows while the waits it sees, wake-up
 * included, stay under the maximum: 32 never grew, 128 did (a request/response round trip went from
 * ~80 to ~13 us). The window adapts, so a thread between bursts does not poll; set
 * IoThreadPoolOptions.pollMaxUs to 0 to never poll.
 */
export const IO_POLL_MAX_US = 128;
