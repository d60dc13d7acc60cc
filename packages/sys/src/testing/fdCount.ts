import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Entries of /proc/self/fd and lines of /proc/self/maps: what leak tests compare. */
export const fdCount = {
  /** Open fds of this process. */
  fds(): number {
    return readdirSync('/proc/self/fd').length;
  },
  /** Open fds of this process that are anonymous inodes of `kind` (`io_uring`, `eventfd`...: the link reads `anon_inode:[kind]`). */
  anonInodes(kind: string): number {
    const want = `anon_inode:[${kind}]`;
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`) === want) n++;
      } catch {
        // closed meanwhile
      }
    }
    return n;
  },
  /** Lines of /proc/self/maps (one per mapping). */
  mapLines(): string[] {
    return readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  },
  /** Mappings of memfds named `name` (lines with `/memfd:<name>`): exact, unlike the total, which V8 changes on its own. */
  memfdMappings(name: string): number {
    return this.mapLines().filter((l) => l.includes(`/memfd:${name} `) || l.endsWith(`/memfd:${name}`)).length;
  },
  /** True when `fd` is open in this process. */
  isOpen(fd: number): boolean {
    try {
      readFileSync(`/proc/self/fdinfo/${fd}`);
      return true;
    } catch {
      return false;
    }
  },
  /** The `flags:` field of /proc/self/fdinfo/<fd> (octal open flags, incl. O_NONBLOCK and O_CLOEXEC). */
  flags(fd: number): number {
    const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m === null) throw new Error(`no flags in fdinfo of fd ${fd}`);
    return parseInt(m[1]!, 8);
  },
};
