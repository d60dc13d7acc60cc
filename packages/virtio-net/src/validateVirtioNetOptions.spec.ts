import { describe, expect, it } from 'vitest';
import { validateVirtioNetOptions } from './validateVirtioNetOptions.ts';

describe('validateVirtioNetOptions', () => {
  it('accepts an empty section, a name, a template, fds and persistence', () => {
    expect(validateVirtioNetOptions({})).toEqual([]);
    expect(validateVirtioNetOptions({ tap: 'vnic-net0' })).toEqual([]);
    expect(validateVirtioNetOptions({ tap: 'vm7tap%d', persistent: true })).toEqual([]);
    expect(validateVirtioNetOptions({ tapFds: [7, 8] })).toEqual([]);
    expect(validateVirtioNetOptions({ tap: 'a'.repeat(15) })).toEqual([]);
    expect(validateVirtioNetOptions({ ioThreads: 'shared' })).toEqual([]);
    expect(validateVirtioNetOptions({ tap: 'x', ioThreads: 'dedicated' })).toEqual([]);
  });

  it('names the field and says what is allowed', () => {
    expect(validateVirtioNetOptions({ tap: 5 })).toEqual([{ path: 'tap', message: expect.stringMatching(/must be a string/) }]);
    for (const bad of ['', 'a'.repeat(16), 'has space', 'a/b', 'a:b', '.', '..', 'tâp']) {
      expect(validateVirtioNetOptions({ tap: bad }), bad).toEqual([{ path: 'tap', message: expect.stringMatching(/not an interface name/) }]);
    }
    expect(validateVirtioNetOptions({ tap: 'x%d%d' })[0]?.message).toMatch(/%d" once/);
    expect(validateVirtioNetOptions({ tap: 'x%s' })[0]?.message).toMatch(/%d" once/);
    expect(validateVirtioNetOptions({ persistent: 'yes' })).toEqual([{ path: 'persistent', message: 'must be true or false' }]);
    expect(validateVirtioNetOptions({ socket: '/x', tap: 'ok' })).toEqual([
      { path: 'socket', message: 'unknown field; allowed: tap, tapFds, persistent, ioThreads, txSqPoll' },
    ]);
    expect(validateVirtioNetOptions({ ioThreads: 'own' })).toEqual([{ path: 'ioThreads', message: 'must be one of "shared", "dedicated"' }]);
    expect(validateVirtioNetOptions({ ioThreads: 2 })[0]?.path).toBe('ioThreads');
    expect(validateVirtioNetOptions({ txSqPoll: 1 })).toEqual([{ path: 'txSqPoll', message: 'must be true or false' }]);
    expect(validateVirtioNetOptions({ txSqPoll: true })).toEqual([]);
  });

  it('checks every handed-in fd and the combinations', () => {
    expect(validateVirtioNetOptions({ tapFds: [] })).toEqual([{ path: 'tapFds', message: expect.stringMatching(/array of 1\.\.256 fds/) }]);
    expect(validateVirtioNetOptions({ tapFds: 3 })[0]?.path).toBe('tapFds');
    expect(validateVirtioNetOptions({ tapFds: [3, -1, 2.5, '4', 3] })).toEqual([
      { path: 'tapFds[1]', message: expect.stringMatching(/file descriptor number/) },
      { path: 'tapFds[2]', message: expect.stringMatching(/file descriptor number/) },
      { path: 'tapFds[3]', message: expect.stringMatching(/file descriptor number/) },
      { path: 'tapFds[4]', message: 'fd 3 is listed twice' },
    ]);
    expect(validateVirtioNetOptions({ tap: 'a', tapFds: [3] })).toEqual([{ path: 'tapFds', message: expect.stringMatching(/cannot be combined with "tap"/) }]);
    expect(validateVirtioNetOptions({ tapFds: [3], persistent: true })).toEqual([{ path: 'persistent', message: expect.stringMatching(/not to handed-in/) }]);
  });
});
