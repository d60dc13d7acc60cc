import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IFF_PERSIST } from '../linux/if_tun.ts';
import { Tap } from '../Tap.ts';
import { hostTapPeer } from '../testing/hostTapPeer.ts';
import { uniqueName } from '../testing/uniqueName.ts';
import { openNetTap } from './openNetTap.ts';

// A tap openNetTap makes persistent must not outlive a NIC that failed to come up: on a real tap,
// a failure after TUNSETPERSIST (here the MTU, which the tun driver caps at 65521) leaves no
// interface behind, and neither does `discard()` after a later failure; a tap that was persistent
// before the call is left in place.

const peer = hostTapPeer();
const exists = (name: string): boolean => existsSync(`/sys/class/net/${name}`);
const made: string[] = [];

afterEach(() => {
  for (const name of made.splice(0)) if (exists(name)) execFileSync('ip', ['link', 'del', name], { stdio: 'pipe' });
});

describe.skipIf(peer.skip)('openNetTap with persistent: true on the host kernel', () => {
  beforeAll(() => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
  });

  it('removes the tap it made persistent when a later step (the MTU) fails', () => {
    const name = uniqueName();
    made.push(name);
    expect(() => openNetTap({ nic: 'net0', section: 'virtio-net', tap: name, persistent: true, queues: 1, mtu: 65522, nonBlocking: true })).toThrow(
      `net0: tap ${name}: cannot set the MTU to 65522`,
    );
    expect(exists(name)).toBe(false);
  });

  it('discard() after a later failure removes it too; a working NIC keeps it persistent', () => {
    const kept = uniqueName();
    made.push(kept);
    const ok = openNetTap({ nic: 'net0', section: 'virtio-net', tap: kept, persistent: true, queues: 2, mtu: 65521, nonBlocking: true });
    expect(ok.tap.flags() & IFF_PERSIST).toBe(IFF_PERSIST);
    ok.tap.close();
    expect(exists(kept)).toBe(true);

    const name = uniqueName();
    made.push(name);
    const opened = openNetTap({ nic: 'net0', section: 'virtio-net', tap: name, persistent: true, queues: 2, nonBlocking: true });
    expect(exists(name)).toBe(true);
    opened.discard();
    expect(opened.tap.closed).toBe(true);
    expect(exists(name)).toBe(false);
  });

  it('leaves a tap that was persistent before the call in place', () => {
    const name = uniqueName();
    made.push(name);
    const before = Tap.open({ name, queues: 1, multiQueue: true, vnetHdr: true });
    before.setPersistent(true);
    before.close();
    expect(() => openNetTap({ nic: 'net0', section: 'virtio-net', tap: name, persistent: true, queues: 1, mtu: 65522, nonBlocking: true })).toThrow(
      /cannot set the MTU/,
    );
    expect(exists(name)).toBe(true);
    const again = openNetTap({ nic: 'net0', section: 'virtio-net', tap: name, persistent: true, queues: 1, nonBlocking: true });
    again.discard();
    expect(exists(name)).toBe(true);
  });
});
