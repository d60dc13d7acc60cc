import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsPeer } from '@vnic/sys/testing';
import { findOnPath } from '../vm/findOnPath.ts';
import { buildCpioNewc } from './buildCpioNewc.ts';

/** Reads a newc archive back: name, mode, size, rdev and data of each entry. */
function parse(buf: Buffer): { name: string; mode: number; data: Buffer; rdev: [number, number] }[] {
  const out: { name: string; mode: number; data: Buffer; rdev: [number, number] }[] = [];
  let at = 0;
  const align = (n: number): number => (n + 3) & ~3;
  for (;;) {
    expect(buf.toString('ascii', at, at + 6)).toBe('070701');
    const field = (i: number): number => Number.parseInt(buf.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const [mode, size, rmaj, rmin, namesize] = [field(1), field(6), field(9), field(10), field(11)];
    const name = buf.toString('utf8', at + 110, at + 110 + namesize - 1);
    const dataAt = align(at + 110 + namesize);
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode, data: buf.subarray(dataAt, dataAt + size), rdev: [rmaj, rmin] });
    at = align(dataAt + size);
  }
}

describe('buildCpioNewc', () => {
  const archive = buildCpioNewc([
    { type: 'dir', path: '/bin' },
    { type: 'file', path: 'bin/odd', data: Buffer.from('12345'), mode: 0o755 },
    { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { type: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n') },
  ]);

  it('writes newc entries with 4-byte alignment, modes, device numbers and a trailer', () => {
    expect(archive.length % 4).toBe(0);
    const entries = parse(archive);
    expect(entries.map((e) => e.name)).toEqual(['bin', 'bin/odd', 'dev/console', 'init']);
    expect(entries[0]?.mode).toBe(0o040755);
    expect(entries[1]?.mode).toBe(0o100755);
    expect(entries[1]?.data.toString()).toBe('12345');
    expect(entries[2]?.mode).toBe(0o020600);
    expect(entries[2]?.rdev).toEqual([5, 1]);
    expect(entries[3]?.data.toString()).toBe('#!/bin/sh\n');
  });

  it('is the same bytes for the same input (the cache key relies on it)', () => {
    expect(buildCpioNewc([{ type: 'file', path: 'a', data: Buffer.from('x') }])).toEqual(buildCpioNewc([{ type: 'file', path: 'a', data: Buffer.from('x') }]));
  });

  it.skipIf(needsPeer('buildCpioNewc', findOnPath('busybox') === undefined ? 'busybox is not on PATH (apt-get install busybox-static)' : undefined).skip)(
    'unpacks with busybox cpio',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'vnic-cpio-'));
      try {
        const files = buildCpioNewc([
          { type: 'dir', path: 'bin' },
          { type: 'file', path: 'bin/odd', data: Buffer.from('12345'), mode: 0o755 },
          { type: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n') },
        ]);
        writeFileSync(join(dir, 'a.cpio'), files);
        execFileSync('busybox', ['cpio', '-i', '-d', '-F', 'a.cpio'], { cwd: dir, stdio: 'pipe' });
        expect(readFileSync(join(dir, 'bin/odd'), 'utf8')).toBe('12345');
        expect(statSync(join(dir, 'bin/odd')).mode & 0o777).toBe(0o755);
        expect(readFileSync(join(dir, 'init'), 'utf8')).toBe('#!/bin/sh\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
