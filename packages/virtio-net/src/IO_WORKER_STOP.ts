/** Command bit of IoWorkerData.command: stop polling, give RX buffers back, post `stopped`, exit. */
export const IO_WORKER_STOP = 1;
