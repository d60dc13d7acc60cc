// The entry of an IO thread (worker_threads). The thread is pooled (IoThreadPool) and serves any
// number of queue pairs at once in its IoThreadLoop: the first `job` request arrives through the
// event loop and starts the loop, which blocks this thread in epoll until no pair is left (or the
// main thread asks it to return); requests posted meanwhile are taken synchronously when the
// control eventfd wakes the loop. Started from a bundle of this file when the package runs from
// its .ts sources (see ioWorkerSource.ts); built, the package starts dist/ioWorker.js itself.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { createThreadBuffers } from './createThreadBuffers.ts';
import type { IoThreadInit } from './IoThreadInit.ts';
import { IoThreadLoop } from './IoThreadLoop.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import type { IoWorkerRequest } from './IoWorkerRequest.ts';

const port = parentPort;
if (port === null) throw new Error('ioWorker.ts must run in a worker thread');
const init = workerData as IoThreadInit;
// The thread's buffers, shared by every pair it serves (each uses them within its turn only).
let loop: IoThreadLoop | undefined;
port.on('message', (msg: IoWorkerRequest) => {
  loop ??= new IoThreadLoop(
    init,
    (m: IoWorkerMessage) => port.postMessage(m),
    () => receiveMessageOnPort(port)?.message as IoWorkerRequest | undefined,
    createThreadBuffers(),
  );
  loop.handle(msg);
  loop.run();
});
// Loaded: IoThreadPool.prewarm() waits for this before it counts the thread as ready.
port.postMessage({ type: 'loaded', job: -1 } satisfies IoWorkerMessage);
