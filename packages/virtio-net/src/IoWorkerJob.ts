import type { IoWorkerData } from './IoWorkerData.ts';

/** What the main thread posts to an idle IO thread: run the data plane of one queue pair. */
export interface IoWorkerJob {
  readonly type: 'job';
  /** Job number (process-wide), echoed in every IoWorkerMessage. */
  readonly job: number;
  readonly data: IoWorkerData;
}
