import { VnicError } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { VirtioNetError } from './VirtioNetError.ts';

describe('VirtioNetError', () => {
  it('is a VnicError with a kind and a cause, recognised across copies', () => {
    const cause = new Error('EPERM');
    const e = new VirtioNetError('unavailable', 'net0: cannot open tap vnic%d: ...', { cause });
    expect(e).toBeInstanceOf(VnicError);
    expect(e.kind).toBe('unavailable');
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('VirtioNetError');
    expect(VirtioNetError.is(e)).toBe(true);
    expect(VnicError.is(e)).toBe(true);
    expect(VirtioNetError.is(new VnicError('tap', 'x'))).toBe(false);
    expect(VirtioNetError.is({ [Symbol.for('vnic.VirtioNetError')]: true })).toBe(true);
  });
});
