import type { ConfigIssue } from './ConfigIssue.ts';

/** Most fds a list of per-queue-pair fds may hold. */
const MAX_QUEUE_FDS = 256;

/** Checks a list of fds handed in by the VMM, one per queue pair (`tapFds`, `vhostFds`): 1..256 distinct fd numbers. */
export function validateFdList(path: string, fds: unknown, what: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!Array.isArray(fds) || fds.length === 0 || fds.length > MAX_QUEUE_FDS) {
    return [{ path, message: `must be an array of 1..${MAX_QUEUE_FDS} fds, one ${what} per queue pair` }];
  }
  const seen = new Set<number>();
  fds.forEach((fd: unknown, i) => {
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff)
      issues.push({ path: `${path}[${i}]`, message: 'must be a file descriptor number (an integer >= 0)' });
    else if (seen.has(fd)) issues.push({ path: `${path}[${i}]`, message: `fd ${fd} is listed twice` });
    else seen.add(fd);
  });
  return issues;
}
