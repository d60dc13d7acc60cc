import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcStatus } from './parseProcStatus.ts';

describe('parseProcStatus', () => {
  it('reads VmRSS, RssAnon, RssFile and RssShmem in KiB', () => {
    const text = 'Name:\tnode\nVmRSS:\t  120400 kB\nRssAnon:\t   80000 kB\nRssFile:\t   40000 kB\nRssShmem:\t     400 kB\n';
    expect(parseProcStatus(text)).toEqual({ rss: 120_400, anon: 80_000, file: 40_000, shmem: 400 });
  });

  it('parses this process, whose parts add up to its RSS', () => {
    const r = parseProcStatus(readFileSync('/proc/self/status', 'utf8'));
    expect(r.rss).toBeGreaterThan(0);
    expect(r.anon + r.file + r.shmem).toBe(r.rss);
  });

  it('says which line is missing', () => {
    expect(() => parseProcStatus('VmRSS:\t1 kB\n')).toThrow(/no RssAnon line/);
  });
});
