import type { ProcRss } from './ProcRss.ts';

/** Reads VmRSS, RssAnon, RssFile and RssShmem (in kB) from the text of /proc/<pid>/status. */
export function parseProcStatus(text: string): ProcRss {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (m === null) throw new RangeError(`/proc status has no ${key} line`);
    return Number(m[1]);
  };
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}
