/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux architecture vnic runs on). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) from the text of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat:
 * fields 14 and 15 (utime, stime), counted after the command name, which may hold spaces.
 */
export function parseStatCpu(text: string): number {
  const close = text.lastIndexOf(')');
  const fields =
    close < 0
      ? []
      : text
          .slice(close + 2)
          .trim()
          .split(/\s+/);
  // fields[0] is field 3 (state): utime (14) is fields[11], stime (15) fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) throw new RangeError(`not a /proc stat line: ${text.slice(0, 80)}`);
  return (utime + stime) / USER_HZ;
}
