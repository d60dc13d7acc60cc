// The entry of an IO thread (worker_threads). The thread is pooled (IoThreadPool): it waits in its
// event loop for a job (one queue pair of one activation), runs that job's QueuePairLoop, which
// blocks this thread in epoll until the main thread asks it to stop, posts the ring positions and
// goes back to waiting. Started from a bundle of this file when the package runs from its .ts
// sources (see ioWorkerSource.ts); built, the package starts dist/ioWorker.js itself.
import { parentPort } from 'node:worker_threads';
import type { IoWorkerJob } from './IoWorkerJob.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import { createThreadBuffers } from './createThreadBuffers.ts';
import { QueuePairLoop } from './QueuePairLoop.ts';
import type { ThreadBuffers } from './ThreadBuffers.ts';

const port = parentPort;
if (port === null) throw new Error('ioWorker.ts must run in a worker thread');
// The thread's buffers, allocated by its first job and shared by the jobs it runs one after the other.
let buffers: ThreadBuffers | undefined;
port.on('message', (msg: IoWorkerJob) => {
  if (msg.type !== 'job') return;
  const job = msg.job;
  const post = (m: IoWorkerMessage): void => port.postMessage(m);
  try {
    buffers ??= createThreadBuffers();
    const states = new QueuePairLoop(msg.data, (m) => post({ ...m, job }), buffers).run();
    post({ type: 'stopped', job, ...states });
  } catch (e) {
    post({ type: 'fatal', job, message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
