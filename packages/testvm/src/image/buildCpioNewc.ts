/** One entry of an initramfs: a directory, a regular file or a character device node. */
export type CpioEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly type: 'file'; readonly path: string; readonly data: Buffer; readonly mode?: number }
  | { readonly type: 'chardev'; readonly path: string; readonly major: number; readonly minor: number; readonly mode?: number };

/**
 * An uncompressed cpio archive in the "newc" format the kernel unpacks as initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): 110-byte ASCII header, name and
 * data each padded to 4 bytes, closed by TRAILER!!!. Owner root, mtime 0, so equal input gives
 * equal bytes.
 */
export function buildCpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    size += b.length;
  };
  const pad = (): void => {
    if (size % 4 !== 0) push(Buffer.alloc(4 - (size % 4)));
  };
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  let ino = 1;
  const add = (path: string, mode: number, data: Buffer, rdevMajor: number, rdevMinor: number): void => {
    const name = Buffer.from(`${path.replace(/^\/+/, '')}\0`, 'utf8');
    const header = '070701' + [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdevMajor, rdevMinor, name.length, 0].map(hex).join('');
    push(Buffer.from(header, 'ascii'));
    push(name);
    pad();
    push(data);
    pad();
  };
  for (const e of entries) {
    if (e.type === 'dir') add(e.path, 0o040000 | (e.mode ?? 0o755), Buffer.alloc(0), 0, 0);
    else if (e.type === 'file') add(e.path, 0o100000 | (e.mode ?? 0o644), e.data, 0, 0);
    else add(e.path, 0o020000 | (e.mode ?? 0o600), Buffer.alloc(0), e.major, e.minor);
  }
  ino = 0;
  add('TRAILER!!!', 0, Buffer.alloc(0), 0, 0);
  return Buffer.concat(parts, size);
}
