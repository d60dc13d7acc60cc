import { readdirSync, readFileSync } from 'node:fs';
import { parseStatCpu } from './parseStatCpu.ts';

/**
 * CPU seconds of each thread of process `pid` (default: this one) so far, keyed `tid comm`
 * (threads that exit meanwhile are left out).
 */
export function threadCpu(pid: number | 'self' = 'self'): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(`${tid} ${comm}`, parseStatCpu(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
