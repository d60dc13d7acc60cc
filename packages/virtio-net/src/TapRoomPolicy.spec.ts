import { describe, expect, it } from 'vitest';
import { TapRoomPolicy, TX_NOBUFS_RETRIES } from './TapRoomPolicy.ts';

describe('TapRoomPolicy', () => {
  it('waits on every EAGAIN (a full send buffer), however many in a row', () => {
    const p = new TapRoomPolicy();
    for (let i = 0; i < 10 * TX_NOBUFS_RETRIES; i++) expect(p.refused('EAGAIN')).toBe('wait');
  });

  it(`waits on ENOBUFS ${TX_NOBUFS_RETRIES} times in a row, drops the next, then waits again`, () => {
    const p = new TapRoomPolicy();
    const got = Array.from({ length: 2 * (TX_NOBUFS_RETRIES + 1) }, () => p.refused('ENOBUFS'));
    const round = [...Array<string>(TX_NOBUFS_RETRIES).fill('wait'), 'drop'];
    expect(got).toEqual([...round, ...round]);
  });

  it('a frame written resets the ENOBUFS streak; EAGAIN neither counts nor resets it', () => {
    const p = new TapRoomPolicy();
    for (let i = 0; i < TX_NOBUFS_RETRIES; i++) expect(p.refused('ENOBUFS')).toBe('wait');
    expect(p.refused('EAGAIN')).toBe('wait');
    p.sent();
    for (let i = 0; i < TX_NOBUFS_RETRIES; i++) expect(p.refused('ENOBUFS')).toBe('wait');
    expect(p.refused('EAGAIN')).toBe('wait');
    expect(p.refused('ENOBUFS')).toBe('drop');
  });

  it('other errors are not a lack of room', () => {
    const p = new TapRoomPolicy();
    for (const code of ['EINVAL', 'EIO', 'EMSGSIZE', 'EBADFD', undefined]) expect(p.refused(code)).toBeUndefined();
  });
});
