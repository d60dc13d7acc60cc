import { performance } from 'node:perf_hooks';
import { DriverError } from './DriverError.ts';
import type { FramePort } from './FramePort.ts';
import type { GuestNetStackCounters } from './GuestNetStackCounters.ts';
import type { GuestNetStackOptions } from './GuestNetStackOptions.ts';
import { buildArp } from './packets/buildArp.ts';
import { buildEthernet } from './packets/buildEthernet.ts';
import { buildIcmpEcho } from './packets/buildIcmpEcho.ts';
import { buildIpv4 } from './packets/buildIpv4.ts';
import { buildUdp } from './packets/buildUdp.ts';
import { EtherType } from './packets/EtherType.ts';
import { IpProtocol } from './packets/IpProtocol.ts';
import { parseArp } from './packets/parseArp.ts';
import { parseEthernet } from './packets/parseEthernet.ts';
import { parseIcmpEcho } from './packets/parseIcmpEcho.ts';
import { parseIpv4 } from './packets/parseIpv4.ts';
import { parseIpv4Address } from './packets/parseIpv4Address.ts';
import { parseMacAddress } from './packets/parseMacAddress.ts';
import { parseUdp } from './packets/parseUdp.ts';
import type { ReceivedUdp } from './ReceivedUdp.ts';

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO_MAC = new Uint8Array(6);
/** Longest a waiter sits in one receive before it looks at its own deadline again. */
const SLICE_MS = 50;
/** ARP requests are repeated this often while resolve() waits. */
const ARP_RETRY_MS = 250;

interface PendingEcho {
  readonly data: Uint8Array;
  readonly sentAt: number;
  repliedAt: number | undefined;
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A tiny guest-side IPv4 stack over a FramePort: ARP (resolve and answer), ICMP echo (ping and
 * answer) and UDP (send, and receive on listened ports). Every wait runs the receive loop, so
 * the stack answers ARP requests for its IP and echo requests to its IP whatever it waits for;
 * frames not for it (another MAC or IP, IPv6, unknown EtherTypes) are counted and ignored. One
 * receive is in flight at a time however many callers wait, so concurrent calls are fine.
 */
export class GuestNetStack {
  /** Our MAC. */
  readonly mac: Uint8Array;
  /** Our IPv4 address. */
  readonly ip: string;
  /** What the stack has seen and done. */
  readonly counters: GuestNetStackCounters = {
    framesIn: 0,
    framesOut: 0,
    ignored: 0,
    malformed: 0,
    arpAnswered: 0,
    echoAnswered: 0,
    udpIn: 0,
    udpDropped: 0,
  };

  private readonly port: FramePort;
  private readonly udpQueueLimit: number;
  private readonly arpCache = new Map<string, Uint8Array>();
  private readonly echoes = new Map<string, PendingEcho>();
  private readonly udpQueues = new Map<number, ReceivedUdp[]>();
  private readonly echoId = Math.floor(Math.random() * 0x10000);
  private ipId = 0;
  private pumping: Promise<void> | undefined;

  constructor(port: FramePort, options: GuestNetStackOptions) {
    this.port = port;
    this.mac = typeof options.mac === 'string' ? parseMacAddress(options.mac) : Uint8Array.from(options.mac.subarray(0, 6));
    parseIpv4Address(options.ip);
    this.ip = options.ip;
    this.udpQueueLimit = options.udpQueueLimit ?? 65_536;
  }

  /** The MAC learned for `ip` (from a reply, or a request it sent us), if any. */
  cachedMac(ip: string): Uint8Array | undefined {
    return this.arpCache.get(ip);
  }

  /**
   * Asks who has `ip` (ARP request, repeated every 250 ms) and waits for the reply; returns the
   * MAC and caches it. Throws a `timeout` DriverError after `timeoutMs`.
   */
  async resolve(ip: string, timeoutMs = 1000): Promise<Uint8Array> {
    parseIpv4Address(ip);
    this.arpCache.delete(ip);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.transmit(
        buildEthernet({
          dst: BROADCAST,
          src: this.mac,
          etherType: EtherType.ARP,
          payload: buildArp({ op: 1, senderMac: this.mac, senderIp: this.ip, targetMac: ZERO_MAC, targetIp: ip }),
        }),
      );
      const mac = await this.waitFor(() => this.arpCache.get(ip), Math.min(deadline, Date.now() + ARP_RETRY_MS));
      if (mac !== undefined) return mac;
      if (Date.now() >= deadline) throw new DriverError('timeout', `no ARP reply from ${ip} within ${timeoutMs} ms (asked as ${this.ip})`);
    }
  }

  /**
   * Sends an ICMP echo request with sequence `seq` and `payloadLen` bytes of data to `ip`
   * (resolving its MAC first if needed) and waits for the matching reply with the same data.
   * Returns the round-trip time in milliseconds; throws a `timeout` DriverError.
   */
  async ping(ip: string, seq: number, payloadLen = 56, timeoutMs = 1000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const mac = await this.macOf(ip, timeoutMs);
    const data = new Uint8Array(payloadLen);
    for (let i = 0; i < payloadLen; i++) data[i] = (seq + i) & 0xff;
    const key = `${ip}/${this.echoId}/${seq & 0xffff}`;
    const frame = this.ipFrame(mac, ip, IpProtocol.ICMP, buildIcmpEcho({ type: 8, id: this.echoId, seq: seq & 0xffff, data }));
    const pending: PendingEcho = { data, sentAt: performance.now(), repliedAt: undefined };
    this.echoes.set(key, pending);
    try {
      await this.transmit(frame);
      const at = await this.waitFor(() => pending.repliedAt, deadline);
      if (at === undefined) throw new DriverError('timeout', `no echo reply from ${ip} (seq ${seq}) within ${timeoutMs} ms`);
      return at - pending.sentAt;
    } finally {
      this.echoes.delete(key);
    }
  }

  /**
   * Sends one UDP datagram from our `srcPort` to `dstIp`:`dstPort` (resolving the MAC first if
   * needed). Returns false when the port could not queue the frame.
   */
  async sendUdp(dstIp: string, dstPort: number, srcPort: number, payload: Uint8Array): Promise<boolean> {
    const mac = await this.macOf(dstIp, 1000);
    return this.transmit(this.ipFrame(mac, dstIp, IpProtocol.UDP, buildUdp({ srcPort, dstPort, payload }, this.ip, dstIp)));
  }

  /** Starts queueing datagrams that arrive for UDP `port` (receiveUdp does it too). */
  listenUdp(port: number): void {
    if (!this.udpQueues.has(port)) this.udpQueues.set(port, []);
  }

  /** Stops queueing for `port` and drops what was queued. */
  unlistenUdp(port: number): void {
    this.udpQueues.delete(port);
  }

  /** The next datagram for UDP `port` (listening on it from now if not yet), waiting up to `timeoutMs`. */
  async receiveUdp(port: number, timeoutMs = 1000): Promise<ReceivedUdp | undefined> {
    this.listenUdp(port);
    const q = this.udpQueues.get(port)!;
    return this.waitFor(() => q.shift(), Date.now() + timeoutMs);
  }

  /** Runs the receive loop for `durationMs` (answering ARP and echo requests) and returns. */
  async serve(durationMs: number): Promise<void> {
    await this.waitFor(() => undefined, Date.now() + durationMs);
  }

  private async macOf(ip: string, timeoutMs: number): Promise<Uint8Array> {
    return this.arpCache.get(ip) ?? (await this.resolve(ip, timeoutMs));
  }

  private ipFrame(dstMac: Uint8Array, dstIp: string, protocol: number, payload: Uint8Array): Uint8Array {
    this.ipId = (this.ipId + 1) & 0xffff;
    return buildEthernet({
      dst: dstMac,
      src: this.mac,
      etherType: EtherType.IPV4,
      payload: buildIpv4({ src: this.ip, dst: dstIp, protocol, payload, id: this.ipId }),
    });
  }

  private async transmit(frame: Uint8Array): Promise<boolean> {
    const ok = await this.port.send(frame);
    if (ok) this.counters.framesOut++;
    return ok;
  }

  /** Runs the receive loop until `check` returns a value or `deadline` (Date.now() ms) passes. */
  private async waitFor<T>(check: () => T | undefined, deadline: number): Promise<T | undefined> {
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await this.pumpOnce(Math.min(left, SLICE_MS));
    }
  }

  /** One receive (shared by every concurrent waiter) and the handling of what it brought. */
  private pumpOnce(timeoutMs: number): Promise<void> {
    this.pumping ??= (async () => {
      try {
        const frame = await this.port.receive(timeoutMs);
        if (frame !== undefined) await this.handle(frame);
      } finally {
        this.pumping = undefined;
      }
    })();
    return this.pumping;
  }

  private async handle(frame: Uint8Array): Promise<void> {
    const c = this.counters;
    c.framesIn++;
    const eth = parseEthernet(frame);
    if (eth === undefined) {
      c.malformed++;
      return;
    }
    if (!sameMac(eth.dst, this.mac) && !sameMac(eth.dst, BROADCAST)) {
      c.ignored++;
      return;
    }
    if (eth.etherType === EtherType.ARP) {
      const arp = parseArp(eth.payload);
      if (arp === undefined) {
        c.malformed++;
        return;
      }
      if (arp.targetIp !== this.ip) {
        c.ignored++;
        return;
      }
      // RFC 826: the target learns the sender's mapping from a request, too.
      this.arpCache.set(arp.senderIp, arp.senderMac);
      if (arp.op === 1) {
        c.arpAnswered++;
        await this.transmit(
          buildEthernet({
            dst: arp.senderMac,
            src: this.mac,
            etherType: EtherType.ARP,
            payload: buildArp({ op: 2, senderMac: this.mac, senderIp: this.ip, targetMac: arp.senderMac, targetIp: arp.senderIp }),
          }),
        );
      }
      return;
    }
    if (eth.etherType !== EtherType.IPV4) {
      c.ignored++;
      return;
    }
    const ip = parseIpv4(eth.payload);
    if (ip === undefined) {
      c.malformed++;
      return;
    }
    if (ip.dst !== this.ip || ip.moreFragments === true || (ip.fragmentOffset ?? 0) !== 0) {
      c.ignored++;
      return;
    }
    if (ip.protocol === IpProtocol.ICMP) {
      const echo = parseIcmpEcho(ip.payload);
      if (echo === undefined) {
        c.ignored++;
        return;
      }
      if (echo.type === 8) {
        c.echoAnswered++;
        await this.transmit(this.ipFrame(eth.src.slice(), ip.src, IpProtocol.ICMP, buildIcmpEcho({ type: 0, id: echo.id, seq: echo.seq, data: echo.data })));
        return;
      }
      const pending = this.echoes.get(`${ip.src}/${echo.id}/${echo.seq}`);
      if (pending !== undefined && pending.repliedAt === undefined && sameBytes(pending.data, echo.data)) pending.repliedAt = performance.now();
      else c.ignored++;
      return;
    }
    if (ip.protocol === IpProtocol.UDP) {
      const udp = parseUdp(ip.payload, ip.src, ip.dst);
      if (udp === undefined) {
        c.malformed++;
        return;
      }
      const q = this.udpQueues.get(udp.dstPort);
      if (q === undefined) {
        c.ignored++;
        return;
      }
      if (q.length >= this.udpQueueLimit) {
        c.udpDropped++;
        return;
      }
      c.udpIn++;
      q.push({ srcIp: ip.src, srcPort: udp.srcPort, dstPort: udp.dstPort, payload: udp.payload.slice() });
      return;
    }
    c.ignored++;
  }
}
