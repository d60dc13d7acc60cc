import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from './silentLogger.ts';
import { stderrLogger } from './stderrLogger.ts';

describe('stderrLogger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes warn and error lines with their fields, and debug/info only when verbose', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const quiet = stderrLogger();
    quiet.debug({ nic: 'net0' }, 'not shown');
    quiet.info({}, 'not shown either');
    quiet.warn({ nic: 'net0' }, 'tap is slow');
    quiet.error({}, 'ring broken');
    stderrLogger(true).debug({ pair: 1 }, 'thread started');
    expect(lines).toEqual(['vnic warn: tap is slow {"nic":"net0"}\n', 'vnic error: ring broken\n', 'vnic debug: thread started {"pair":1}\n']);
  });

  it('silentLogger writes nothing', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    silentLogger.error({ nic: 'net0' }, 'dropped');
    expect(write).not.toHaveBeenCalled();
  });
});
