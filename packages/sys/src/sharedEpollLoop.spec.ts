import { describe, expect, it } from 'vitest';
import { fdCount } from './testing/fdCount.ts';
import { sharedEpollLoop } from './sharedEpollLoop.ts';

describe('sharedEpollLoop', () => {
  it('hands every device the same loop and closes its epoll fd with the last release', async () => {
    const before = fdCount.fds();
    const a = sharedEpollLoop.retain();
    const b = sharedEpollLoop.retain();
    expect(b).toBe(a);
    expect(fdCount.fds()).toBe(before + 1);
    await sharedEpollLoop.release();
    expect(fdCount.fds()).toBe(before + 1);
    await sharedEpollLoop.release();
    expect(fdCount.fds()).toBe(before);
    await sharedEpollLoop.release(); // more releases than retains: ignored
    const c = sharedEpollLoop.retain();
    expect(c).not.toBe(a);
    await sharedEpollLoop.release();
    expect(fdCount.fds()).toBe(before);
  });
});
