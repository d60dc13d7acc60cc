import { Netns, netnsSupport, uniqueName } from '@vnic/cli';
import { GuestNetStack, fdPort, formatMac, type ClosableFramePort } from '@vnic/driver';
import { Tap } from '@vnic/sys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsPeer } from '@vnic/sys/testing';

// GuestNetStack against the real host kernel, no vnic device in between: a tap (no vnet header)
// moved into a namespace of our own, addressed 10.201.<r>.1/24; the stack is 10.201.<r>.2 on the
// tap's fd. The kernel answers ARP and pings, python3 in the namespace is the UDP peer.
const { reason, skip } = needsPeer('GuestNetStack kernel tests', await netnsSupport());

describe.skipIf(skip)('GuestNetStack against the host kernel (tap in a namespace)', () => {
  const r = 1 + Math.floor(Math.random() * 250);
  const nsIp = `10.201.${r}.1`;
  const guestIp = `10.201.${r}.2`;
  const guestMac = '02:00:5e:10:00:02';
  let ns: Netns | undefined;
  let tap: Tap | undefined;
  let port: ClosableFramePort | undefined;
  let stack: GuestNetStack;

  beforeAll(async () => {
    if (reason !== undefined) throw new Error(`the host kernel peer is not available: ${reason}`);
    tap = Tap.open({ name: uniqueName('vgs'), vnetHdr: false, nonBlocking: true });
    ns = await Netns.create('vgsns');
    await ns.moveLink(tap.name);
    await ns.addAddress(tap.name, `${nsIp}/24`);
    await ns.setUp(tap.name);
    port = fdPort(tap.fds[0]!);
    stack = new GuestNetStack(port, { mac: guestMac, ip: guestIp });
  });

  afterAll(async () => {
    port?.close();
    tap?.close();
    await ns?.delete();
  });

  it('resolves the namespace address to the tap MAC', async () => {
    const mac = await stack.resolve(nsIp, 3000);
    expect(formatMac(mac)).toBe(await ns!.linkMac(tap!.name));
  });

  it('pings the kernel: every reply matches and RTTs are sane', async () => {
    const rtts: number[] = [];
    for (let seq = 1; seq <= 3; seq++) rtts.push(await stack.ping(nsIp, seq, 56 + seq, 2000));
    for (const rtt of rtts) {
      expect(rtt).toBeGreaterThan(0);
      expect(rtt).toBeLessThan(2000);
    }
  });

  it('answers the kernel: ping from the namespace to the stack gets replies', async () => {
    const pinging = ns!.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', guestIp], { timeoutMs: 10_000, allowFailure: true });
    let done = false;
    void pinging.finally(() => (done = true));
    const before = stack.counters.echoAnswered;
    while (!done) await stack.serve(50);
    const out = await pinging;
    expect(out.stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(stack.counters.echoAnswered - before).toBe(3);
  });

  it('sends UDP to a python receiver in the namespace, payloads intact', async () => {
    const script = [
      'import socket, sys, json',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      `s.bind(("${nsIp}", 7001))`,
      's.settimeout(3)',
      'print("ready", flush=True)',
      'got = []',
      'while len(got) < 3:',
      '    d, a = s.recvfrom(65535)',
      '    got.append([d.hex(), a[0], a[1]])',
      'print(json.dumps(got), flush=True)',
    ].join('\n');
    const child = ns!.spawn('python3', ['-c', script]);
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('ready')) resolve();
      });
      child.on('close', () => reject(new Error(`python receiver exited early: ${err}`)));
    });
    const payloads = [Buffer.from('hello kernel'), Buffer.alloc(1000, 0x5a), Buffer.from([0, 1, 2, 255])];
    for (const p of payloads) expect(await stack.sendUdp(nsIp, 7001, 6001, p)).toBe(true);
    expect(await exited).toBe(0);
    const got = JSON.parse(out.split('\n').find((l) => l.startsWith('['))!) as [string, string, number][];
    expect(got).toEqual(payloads.map((p) => [p.toString('hex'), guestIp, 6001]));
  });

  it('receives UDP a python sender in the namespace sends, payloads intact', async () => {
    const script = [
      'import socket',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      `s.bind(("${nsIp}", 6002))`,
      'for i in range(5):',
      `    s.sendto(bytes([i]) * (10 + 300 * i) + b"vnic", ("${guestIp}", 7002))`,
    ].join('\n');
    stack.listenUdp(7002);
    const sending = ns!.exec('python3', ['-c', script], { timeoutMs: 10_000 });
    const got: Buffer[] = [];
    while (got.length < 5) {
      const d = await stack.receiveUdp(7002, 3000);
      if (d === undefined) break;
      expect(d).toMatchObject({ srcIp: nsIp, srcPort: 6002, dstPort: 7002 });
      got.push(Buffer.from(d.payload));
    }
    await sending;
    expect(got.map((b) => b.toString('hex'))).toEqual(
      [0, 1, 2, 3, 4].map((i) => Buffer.concat([Buffer.alloc(10 + 300 * i, i), Buffer.from('vnic')]).toString('hex')),
    );
  });

  it('ignored what was not for it (IPv6 chatter from the kernel) without answering it', () => {
    expect(stack.counters.malformed).toBe(0);
    expect(stack.counters.framesIn).toBeGreaterThan(stack.counters.ignored);
  });
});
