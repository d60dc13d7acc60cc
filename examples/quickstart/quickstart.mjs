// vnic quick start, plain JavaScript (Node >= 20.19, as root: it creates a tap and a network
// namespace). After `npm install @vnic/config @vnic/core @vnic/driver inversify reflect-metadata`
// and `npm install @vnic/sys @vnic/virtio-net`: `node quickstart.mjs`. The repository's pack-and-install test runs
// this very file against the installed packages, so what the README shows is what works.
//
// It validates a VM config, builds its virtio-net NIC on a tap, drives it with @vnic/driver (a
// guest-side virtio-net driver standing in for a real guest), moves frames both ways through the
// tap, and closes everything.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { createNetDevices, defineVmConfig, validateVmConfig, containerBackends, createVnicContainer } from '@vnic/config';
import { VirtioNetDriver } from '@vnic/driver';
import { PacketSocket } from '@vnic/sys';
import { shutdownIoThreads } from '@vnic/virtio-net';

/** Open fds of this process, by target (a socket, a pipe, /dev/net/tun, ...). */
const fds = () =>
  readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '(closed)';
    }
  });
const suffix = randomBytes(4).toString('hex');
const tapName = `vq${suffix}`; // unique: several runs may share a host
const netns = `vnic-qs-${suffix}`;
console.log(`vnic quick start: tap ${tapName} in network namespace ${netns}`);
const fdsBefore = fds(); // after the first console.log: stdout on a pipe opens an fd of its own
const guestMac = Uint8Array.of(0x52, 0x54, 0x00, 0x9a, 0x00, 0x01);

// 1. A VM config (the same shape as a vm.json); defaulted fields may be left out.
const config = defineVmConfig({
  net: [{ id: 'net0', backend: 'virtio-net', mac: '52:54:00:9a:00:01', queuePairs: 1, 'virtio-net': { tap: tapName } }],
});

// 2. Validate it: every issue at once, each naming its field.
const backends = containerBackends(createVnicContainer());
const bad = validateVmConfig({ net: [{ id: 'net0', backend: 'virtio-net', mac: 'not-a-mac' }] }, backends);
if (bad.issues.length === 0) throw new Error('a bad MAC was accepted');
console.log(`refused as expected: ${bad.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
const ok = validateVmConfig(config, backends);
if (ok.issues.length > 0) throw new Error(`config refused: ${JSON.stringify(ok.issues)}`);

// 3. One VirtioNetDevice per NIC; this one opens the tap. Its host side goes into a namespace.
const [nic] = await createNetDevices(config, { source: 'quickstart.mjs' });
execFileSync('ip', ['netns', 'add', netns]);
let driver;
let sock;
try {
  execFileSync('ip', ['link', 'set', tapName, 'netns', netns]);
  execFileSync('ip', ['-n', netns, 'link', 'set', tapName, 'up']);
  sock = PacketSocket.open(tapName, { netns }); // raw frames on the host side of the tap

  // 4. A guest driver activates the NIC (virtio-mmio bring-up to DRIVER_OK starts its IO thread).
  driver = await VirtioNetDriver.create({ device: nic });

  // 5. Guest -> host: a frame the driver sends comes out of the tap.
  const etherType = [0x88, 0xb5]; // IEEE local experimental: nothing else on the tap uses it
  const out = Uint8Array.from([...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], ...guestMac, ...etherType, ...randomBytes(64)]);
  if (!driver.send(out)) throw new Error('TX ring full');
  const buf = new Uint8Array(2048);
  const deadline = Date.now() + 3000;
  for (;;) {
    const n = sock.recv(buf);
    if (n === out.length && Buffer.compare(buf.subarray(0, n), out) === 0) break;
    if (Date.now() > deadline) throw new Error('the guest frame never came out of the tap');
    if (n <= 0) await new Promise((r) => setTimeout(r, 2));
  }
  console.log(`guest -> tap: ${out.length} bytes, payload intact`);

  // 6. Host -> guest: a frame written on the tap arrives in the driver's RX ring.
  const back = Uint8Array.from([...guestMac, ...[0x02, 0, 0, 0, 0, 0x01], ...etherType, ...randomBytes(64)]);
  if (!sock.send(back)) throw new Error('packet socket full');
  let got;
  while ((got = await driver.receive(0, 3000)) !== undefined && Buffer.compare(got.frame, back) !== 0);
  if (got === undefined) throw new Error('the tap frame never reached the guest');
  console.log(`tap -> guest: ${got.frame.length} bytes, payload intact`);
  console.table(nic.stats());
} finally {
  // 7. Close: the driver, the NIC (tap, eventfds, IO thread job), the IO threads, the namespace.
  await driver?.close();
  sock?.close();
  await nic.close();
  await shutdownIoThreads();
  execFileSync('ip', ['netns', 'del', netns]);
}
const fdsAfter = fds();
const leaked = fdsAfter.filter((t) => !fdsBefore.includes(t) && t !== '(closed)');
if (fdsAfter.length > fdsBefore.length) throw new Error(`fd leak: ${fdsBefore.length} fds before, ${fdsAfter.length} after (new: ${leaked.join(', ')})`);
console.log('closed: no fd left');
