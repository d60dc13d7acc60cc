import { DirtyLog } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { fdCount } from '../testing/fdCount.ts';
import { viewHostMemory } from '../viewHostMemory.ts';
import { MemfdDirtyLog } from './MemfdDirtyLog.ts';

describe('MemfdDirtyLog', () => {
  it('maps a zeroed memfd log whose host-address share another view writes through, and closes its fd and mapping', () => {
    const fds = fdCount.fds();
    const name = `dl-spec-${process.pid}`;
    const m = MemfdDirtyLog.create(256 * 1024 * 1024, name);
    expect(m.size).toBe(8192);
    expect(fdCount.isOpen(m.log.fd!)).toBe(true);
    expect(m.log.countDirty()).toBe(0);
    const other = DirtyLog.fromShare(m.log.share(), viewHostMemory);
    other.markRange(0x123_4000, 0x2000);
    expect(m.log.takeDirtyPages()).toEqual([0x1234, 0x1235]);
    expect(fdCount.fds()).toBe(fds + 1);
    expect(fdCount.memfdMappings(name)).toBe(1);
    m.close();
    m.close();
    expect(m.closed).toBe(true);
    expect(fdCount.fds()).toBe(fds);
    expect(fdCount.memfdMappings(name)).toBe(0);
  });
});
