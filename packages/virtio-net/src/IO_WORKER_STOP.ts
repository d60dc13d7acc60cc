/**
 * Command bit of IoThreadInit.command: every queue pair on the thread stops (RX buffers given back,
 * `stopped` posted for each) and the loop returns to JavaScript, where terminate() lands.
 */
export const IO_WORKER_STOP = 1;
