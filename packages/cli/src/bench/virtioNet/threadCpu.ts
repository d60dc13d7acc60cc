import { readdirSync, readFileSync } from 'node:fs';
import { parseStatCpu } from './parseStatCpu.ts';

/** CPU seconds of each thread of this process so far, keyed `tid comm` (threads that exit meanwhile are left out). */
export function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      out.set(`${tid} ${comm}`, parseStatCpu(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
