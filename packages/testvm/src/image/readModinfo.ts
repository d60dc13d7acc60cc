import { readFileSync } from 'node:fs';
import { TestVmError } from '../TestVmError.ts';

/**
 * The key=value strings of a kernel module's `.modinfo` ELF section (what `modinfo` prints):
 * `depends`, `softdep`, `name`, ... A key that appears more than once keeps every value.
 */
export function readModinfo(path: string): Map<string, string[]> {
  const elf = readFileSync(path);
  const bad = (why: string): never => {
    throw new TestVmError('kernel', `${path}: not a 64-bit little-endian kernel module (${why})`);
  };
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) bad('no ELF magic');
  if (elf[4] !== 2 || elf[5] !== 1) bad('not ELFCLASS64/ELFDATA2LSB');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  if (shentsize < 64 || shstrndx >= shnum || shoff + shnum * shentsize > elf.length) bad('section table out of bounds');
  const section = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    const offset = Number(elf.readBigUInt64LE(at + 0x18));
    const size = Number(elf.readBigUInt64LE(at + 0x20));
    if (offset + size > elf.length) bad(`section ${i} out of bounds`);
    return { name: elf.readUInt32LE(at), offset, size };
  };
  const strtab = section(shstrndx);
  const info = new Map<string, string[]>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const nameAt = strtab.offset + s.name;
    const name = elf.toString('latin1', nameAt, elf.indexOf(0, nameAt));
    if (name !== '.modinfo') continue;
    for (const entry of elf.toString('latin1', s.offset, s.offset + s.size).split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const key = entry.slice(0, eq);
      info.set(key, [...(info.get(key) ?? []), entry.slice(eq + 1)]);
    }
    return info;
  }
  return bad('no .modinfo section');
}
