import { performance } from 'node:perf_hooks';
import { containerBackends, createNetDevices, createVnicContainer, loadVmConfig } from '@vnic/config';
import { DRIVER_FEATURES, GuestNetStack, VirtioNetDriver, driverPort, formatMac } from '@vnic/driver';
import { errorMessage, hasFeature, VIRTIO_F_EVENT_IDX, virtio_net } from '@vnic/core';
import type { CliIo } from '../CliIo.ts';
import { Netns } from '../netns/Netns.ts';
import { netnsSupport } from '../netns/netnsSupport.ts';
import { runCommand } from '../netns/runCommand.ts';
import { uniqueName } from '../netns/uniqueName.ts';
import { burstPayload } from './burstPayload.ts';
import { ChildOutput } from './ChildOutput.ts';
import { Cleanup } from './Cleanup.ts';
import type { DemoOptions } from './DemoOptions.ts';
import { formatStatsTable } from './formatStatsTable.ts';
import { pickDemoNic } from './pickDemoNic.ts';
import { Progress } from './Progress.ts';
import { udpReceiverScript } from './udpReceiverScript.ts';
import { udpSenderScript } from './udpSenderScript.ts';

const BACKEND = 'virtio-net';
const PAD = '             ';

/** The features worth naming in the demo's output, in the order shown. */
const SHOWN_FEATURES: readonly (readonly [string, number])[] = [
  ['MRG_RXBUF', virtio_net.VIRTIO_NET_F_MRG_RXBUF],
  ['CSUM', virtio_net.VIRTIO_NET_F_CSUM],
  ['GUEST_CSUM', virtio_net.VIRTIO_NET_F_GUEST_CSUM],
  ['HOST_TSO4', virtio_net.VIRTIO_NET_F_HOST_TSO4],
  ['GUEST_TSO4', virtio_net.VIRTIO_NET_F_GUEST_TSO4],
  ['EVENT_IDX', VIRTIO_F_EVENT_IDX],
  ['CTRL_VQ', virtio_net.VIRTIO_NET_F_CTRL_VQ],
  ['MQ', virtio_net.VIRTIO_NET_F_MQ],
];

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && parts.length < 4; e = (e as { cause?: unknown }).cause) {
    const m = errorMessage(e);
    if (!parts.some((p) => p.includes(m))) parts.push(m);
  }
  return parts.join('\n  caused by: ');
}

function rate(count: number, bytes: number, seconds: number): string {
  if (count < 2 || seconds <= 0) return 'too few datagrams to time';
  const pps = count / seconds;
  return `${Math.round(pps).toLocaleString('en-US')} pps, ${((bytes * 8) / seconds / 1e9).toFixed(3)} Gbit/s of UDP payload`;
}

/**
 * `vnic demo`: builds the first `virtio-net` NIC of a VM config through @vnic/config, drives it
 * with VirtioNetDriver as the guest, moves the tap the device created into a network namespace of
 * its own, and shows ARP, pings, UDP bursts both ways and the device counters; everything is torn
 * down at the end, on errors and on Ctrl-C. Returns the exit code.
 */
export async function runDemo(options: DemoOptions, io: CliIo): Promise<number> {
  const say = (line = ''): void => io.out(`${line}\n`);
  const fail = (line: string): number => {
    io.err(`vnic demo: ${line}\n`);
    return 1;
  };

  // Preflight: the backend, root + taps + namespaces, python3 for the UDP peers, the config.
  const container = createVnicContainer(io.backendModules());
  const backends = containerBackends(container).names;
  if (!backends.includes(BACKEND)) {
    return fail(
      `the demo runs the in-process backend "${BACKEND}" (@vnic/virtio-net), which is not loaded ` +
        `(backends loaded: ${backends.length === 0 ? 'none' : backends.join(', ')}). It arrives with its own issue; ` +
        `until it is in @vnic/config's defaultBackendModules() the demo cannot run.`,
    );
  }
  const unsupported = await netnsSupport();
  if (unsupported !== undefined) return fail(unsupported);
  try {
    await runCommand('python3', ['--version'], { timeoutMs: 5000 });
  } catch {
    return fail('python3 plays the UDP peer inside the namespace and is not installed: apt-get install python3');
  }
  let raw: unknown;
  try {
    raw = await loadVmConfig(options.config);
  } catch (err) {
    return fail(errorText(err));
  }
  const tap = uniqueName('vnd');
  let nic: ReturnType<typeof pickDemoNic>;
  try {
    nic = pickDemoNic(raw, options.config, tap);
  } catch (err) {
    return fail(errorText(err));
  }

  const cleanup = new Cleanup();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted !== undefined) return;
    interrupted = signal;
    io.err(`\n${signal}: cleaning up...\n`);
    void cleanup.runAll().then((lines) => {
      io.err(`cleaned up: ${lines.join(', ')}\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = 1 + Math.floor(Math.random() * 250);
    const nsIp = `10.201.${r}.1`;
    const guestIp = `10.201.${r}.2`;
    const problems: string[] = [];
    say(`vnic demo: a virtio-net NIC from ${options.config} (net[${nic.index}] "${nic.id}"), its guest side a TypeScript`);
    say(`driver, its host side a tap in a network namespace of its own, answered by the Linux kernel.`);
    say();

    // The namespace first, so that it is deleted last: after the device closed its tap.
    const ns = await Netns.create('vnicdemo');
    cleanup.add(`namespace ${ns.name} deleted`, () => ns.delete());

    // 1. The NIC, exactly as a VMM builds it: VM config -> container -> VirtioNetDevice.
    const devices = await createNetDevices(nic.config, { container, source: options.config, onWarning: (m) => say(`${PAD}warning: ${m}`) });
    const device = devices[0]!;
    cleanup.add('device closed', () => device.close());
    say(
      `device       ${device.id}: backend ${device.backend}, ${device.queuePairs} queue pair${device.queuePairs === 1 ? '' : 's'}, queues up to ${device.queueMaxSize}, tap ${tap}`,
    );

    // 2. The guest: VirtioNetDriver negotiates and sets DRIVER_OK through a virtio-mmio transport.
    const driver = await VirtioNetDriver.create({ device });
    cleanup.add('driver closed', () => driver.close());
    const guestMac = driver.readConfig().mac;
    const shown = SHOWN_FEATURES.filter(([, bit]) => hasFeature(driver.features, bit)).map(([n]) => n);
    const acked = driver.features
      .toString(2)
      .split('')
      .filter((b) => b === '1').length;
    say(
      `guest        VirtioNetDriver: DRIVER_OK, MAC ${formatMac(guestMac)}, ${driver.queuePairs} queue pair${driver.queuePairs === 1 ? '' : 's'} of ${driver.queueSize}`,
    );
    say(
      `${PAD}${acked} of ${
        DRIVER_FEATURES.toString(2)
          .split('')
          .filter((b) => b === '1').length
      } driver features acked: ${shown.join(' ')} ...`,
    );

    // 3. The host side: the tap the device created, moved into a fresh namespace and addressed.
    await ns.moveLink(tap);
    await ns.addAddress(tap, `${nsIp}/24`);
    await ns.setUp(tap);
    const tapMac = await ns.linkMac(tap);
    say(`host         tap ${tap} moved into namespace ${ns.name}: ${nsIp}/24, MAC ${tapMac}`);
    say(`${PAD}the guest is ${guestIp}`);
    say();

    const stack = new GuestNetStack(driverPort(driver), { mac: guestMac, ip: guestIp });

    // 4. ARP.
    const t0 = performance.now();
    const peerMac = formatMac(await stack.resolve(nsIp, 3000));
    const arpOk = peerMac === tapMac;
    if (!arpOk) problems.push(`ARP answered ${peerMac}, the tap's MAC is ${tapMac}`);
    say(`ARP          who has ${nsIp}? ${peerMac} (${(performance.now() - t0).toFixed(2)} ms): ${arpOk ? "the tap's MAC" : `NOT the tap's MAC ${tapMac}`}`);

    // 5. Pings.
    say(`ping         ${options.pings} echo request${options.pings === 1 ? '' : 's'} of 56 bytes to ${nsIp}`);
    const rtts: number[] = [];
    for (let seq = 1; seq <= options.pings; seq++) {
      try {
        const rtt = await stack.ping(nsIp, seq, 56, 2000);
        rtts.push(rtt);
        say(`${PAD}seq ${seq}: reply in ${rtt.toFixed(3)} ms`);
      } catch (err) {
        say(`${PAD}seq ${seq}: ${errorText(err)}`);
      }
    }
    const lost = options.pings - rtts.length;
    if (lost > 0) problems.push(`${lost} of ${options.pings} pings lost`);
    if (rtts.length > 0) {
      const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
      say(`${PAD}min/avg/max ${Math.min(...rtts).toFixed(3)}/${avg.toFixed(3)}/${Math.max(...rtts).toFixed(3)} ms, ${lost} lost`);
    }

    // 6. UDP, guest -> namespace: python counts what arrives.
    const size = options.size;
    const burst = options.burst;
    const receiver = new ChildOutput(
      ns.spawn('python3', ['-c', udpReceiverScript({ ip: nsIp, port: 7001, count: burst, size })]),
      'the UDP receiver (python3 in the namespace)',
    );
    cleanup.add('UDP receiver stopped', () => receiver.kill());
    await receiver.waitForLine('ready', 10_000);
    const up = new Progress(io, 'UDP out      ');
    let sent = 0;
    const tSend = performance.now();
    for (let i = 0; i < burst; i++) {
      if (await stack.sendUdp(nsIp, 7001, 6001, burstPayload(i, size))) sent++;
      if ((i & 255) === 0) up.update(`guest -> ${nsIp}:7001: sending ${i}/${burst} datagrams of ${size} bytes`);
    }
    const sendSeconds = (performance.now() - tSend) / 1000;
    up.update(`guest -> ${nsIp}:7001: ${sent} sent, waiting for the receiver's count`);
    const counted = JSON.parse(
      (await receiver.finish(20_000))
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1) ?? '{}',
    ) as {
      count?: number;
      bytes?: number;
      bad?: number;
      seconds?: number;
    };
    const outCount = counted.count ?? 0;
    if (outCount === 0 || (counted.bad ?? 0) > 0) problems.push(`guest -> namespace: ${outCount} received, ${counted.bad ?? 0} corrupted`);
    up.done(`guest -> ${nsIp}:7001: ${sent} datagrams of ${size} bytes sent in ${sendSeconds.toFixed(2)} s`);
    say(
      `${PAD}counted in the namespace: ${outCount}/${burst} received, ${counted.bad ?? 0} corrupted; ${rate(outCount, counted.bytes ?? 0, counted.seconds ?? 0)}`,
    );

    // 7. UDP, namespace -> guest: the guest counts what arrives.
    stack.listenUdp(7002);
    const tapBefore = await ns.linkStats(tap);
    const down = new Progress(io, 'UDP in       ');
    const sender = ns.exec('python3', ['-c', udpSenderScript({ src: nsIp, srcPort: 6002, dst: guestIp, dstPort: 7002, count: burst, size })], {
      timeoutMs: 120_000,
    });
    sender.catch(() => {}); // awaited below
    let got = 0;
    let bad = 0;
    let bytes = 0;
    let first = 0;
    let last = 0;
    const expect = burstPayload(0, size);
    while (got < burst) {
      const d = await stack.receiveUdp(7002, got === 0 ? 10_000 : 1000);
      if (d === undefined) break;
      const now = performance.now();
      if (got === 0) first = now;
      last = now;
      got++;
      bytes += d.payload.length;
      if (d.payload.length !== size || d.srcIp !== nsIp || !d.payload.subarray(4).every((b, i) => b === expect[i + 4])) bad++;
      if ((got & 255) === 0) down.update(`${nsIp}:6002 -> guest: received ${got}/${burst}`);
    }
    const sentByNs = JSON.parse((await sender).stdout.trim() || '{}') as { sent?: number; seconds?: number };
    if (got === 0 || bad > 0) problems.push(`namespace -> guest: ${got} received, ${bad} corrupted`);
    down.done(`${nsIp}:6002 -> guest: the namespace sent ${sentByNs.sent ?? '?'} datagrams of ${size} bytes in ${(sentByNs.seconds ?? 0).toFixed(2)} s`);
    say(`${PAD}counted in the guest: ${got}/${burst} received, ${bad} corrupted; ${rate(got, bytes, (last - first) / 1000)}`);
    const tapDropped = (await ns.linkStats(tap)).tx.dropped - tapBefore.tx.dropped;
    if (got < burst) {
      say(`${PAD}${burst - got} not received; the tap dropped ${tapDropped}: the namespace sent faster than this guest takes frames`);
    }
    say();

    // 8. What the device counted.
    say(`counters     device.stats() of ${device.id}:`);
    io.out(formatStatsTable(device.stats(), device.queuePairs, PAD));
    const c = stack.counters;
    say(
      `${PAD}guest stack: ${c.framesIn} frames in, ${c.framesOut} out; answered ${c.arpAnswered} ARP and ${c.echoAnswered} echo requests; ignored ${c.ignored} (IPv6 chatter and such)`,
    );
    say();
    if (problems.length > 0) {
      io.err(`vnic demo: ran with problems:\n${problems.map((p) => `  ${p}\n`).join('')}`);
      return 1;
    }
    return 0;
  } catch (err) {
    if (interrupted !== undefined) return 130;
    io.err(`\nvnic demo failed: ${errorText(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (interrupted === undefined) say(`cleaned up   ${(await cleanup.runAll()).join(', ')}`);
  }
}
