/** Resident memory of a process from /proc/<pid>/status, in KiB. */
export interface ProcRss {
  /** VmRSS: everything resident. */
  readonly rss: number;
  /** RssAnon: private anonymous pages (heaps, thread stacks). */
  readonly anon: number;
  /** RssFile: file-backed pages (code, mapped libraries). */
  readonly file: number;
  /** RssShmem: shared memory (memfd guest RAM, SharedArrayBuffers). */
  readonly shmem: number;
}
