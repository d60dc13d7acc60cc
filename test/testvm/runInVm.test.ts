// Real QEMU (TCG) booting the real Debian kernel: every test here is one VM boot (~3-10 s each,
// longer while the machine is busy), so they run one after the other and share checks per boot.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareTestVm, runInVm, runVitestInVm, TestVmError } from '@vnic/testvm';
import { describe, expect, it } from 'vitest';
import { isAlive } from './isAlive.ts';
import { testVmMissing } from './testVmMissing.ts';

const skip = testVmMissing('testvm');
const BOOT_TIMEOUT_MS = 180_000;

describe.skipIf(skip).sequential('runInVm: a throw-away VM with the Debian kernel', () => {
  it('prepares the image once: a second prepare is served from the cache', { timeout: BOOT_TIMEOUT_MS }, async () => {
    const first = await prepareTestVm();
    expect(first.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    expect(first.modules).toEqual(expect.arrayContaining(['virtio_mmio', '9pnet_virtio', '9p', 'tun', 'vhost_net']));
    // dependencies load before what needs them
    expect(first.modules.indexOf('vhost')).toBeLessThan(first.modules.indexOf('vhost_net'));
    expect(first.modules.indexOf('9pnet')).toBeLessThan(first.modules.indexOf('9pnet_virtio'));
    expect(readFileSync(first.vmlinux).readUInt32BE(0)).toBe(0x7f454c46); // an ELF, not the bzImage
    const progress: string[] = [];
    const again = await prepareTestVm({ onProgress: (t) => progress.push(t) });
    expect(again).toEqual(first);
    expect(progress).toEqual([]); // nothing downloaded, unpacked or built
  });

  it('runs a command in the Debian kernel: version, /dev/vhost-net from node, netns, env, cwd, files, exit code', { timeout: BOOT_TIMEOUT_MS }, async () => {
    const image = await prepareTestVm();
    const script = [
      'cat /proc/version',
      `node -e 'require("fs").closeSync(require("fs").openSync("/dev/vhost-net", "r+")); console.log("vhost-net opened")'`,
      'ip netns add vm4probe && ip -n vm4probe link set lo up && echo "netns ok"',
      'echo "cwd=$(pwd) greeting=$GREETING"',
      'cat /run/testvm/in.txt > /run/testvm/out.txt && echo " and back" >> /run/testvm/out.txt',
      'exit 7',
    ].join('\n');
    const chunks: string[] = [];
    const r = await runInVm({
      command: ['sh', '-c', script],
      env: { GREETING: "it's a VM" },
      files: { 'in.txt': 'from the host' },
      collect: ['out.txt', 'missing.txt'],
      timeoutMs: BOOT_TIMEOUT_MS - 10_000,
      onOutput: (c) => chunks.push(c),
    });
    expect(r.exitCode).toBe(7);
    expect(r.output).toContain(`Linux version ${image.kernelVersion} `);
    expect(readFileSync('/proc/version', 'utf8')).not.toContain(image.kernelVersion); // not the host's kernel
    expect(r.output).toContain('vhost-net opened');
    expect(r.output).toContain('netns ok');
    expect(r.output).toContain(`cwd=${process.cwd()} greeting=it's a VM`);
    expect(r.files['out.txt']?.toString()).toBe('from the host and back\n');
    expect(r.files['missing.txt']).toBeUndefined();
    expect(chunks.join('')).toBe(r.console);
    expect(r.bootMs).toBeGreaterThan(0);
    expect(r.totalMs).toBeGreaterThanOrEqual(r.bootMs);
    expect(r.qemuPid).toBeGreaterThan(0);
    expect(isAlive(r.qemuPid ?? 0)).toBe(false);
  });

  it("mounts a project directory that lives below /tmp (a CI clone there) over the guest's tmpfs /tmp", { timeout: BOOT_TIMEOUT_MS }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnic-testvm-project-'));
    try {
      writeFileSync(join(dir, 'marker.txt'), 'project seen\n');
      const r = await runInVm({
        projectDir: dir,
        command: ['sh', '-c', 'cat marker.txt && echo "written in the guest" > back.txt && pwd'],
        timeoutMs: BOOT_TIMEOUT_MS - 10_000,
      });
      expect(r.exitCode, r.output).toBe(0);
      expect(r.output).toContain('project seen');
      expect(r.output).toContain(dir);
      expect(readFileSync(join(dir, 'back.txt'), 'utf8')).toBe('written in the guest\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('boots q35 with virtio-pci and a shared memfd RAM backend (what a vhost-user NIC needs)', { timeout: BOOT_TIMEOUT_MS }, async () => {
    let qemuPid = 0;
    let hostMaps = '';
    let seen = '';
    const r = await runInVm({
      // the guest holds still for a moment after the marker so the host can look at QEMU's mappings
      command: ['sh', '-c', 'cut -d" " -f1 /proc/modules; echo look-now; sleep 2'],
      machine: 'q35',
      sharedMemory: true,
      memoryMiB: 1024,
      cpus: 1,
      timeoutMs: BOOT_TIMEOUT_MS - 10_000,
      onQemuStarted: (pid) => (qemuPid = pid),
      onOutput: (c) => {
        seen += c; // serial output arrives in small pieces: look at everything so far
        if (seen.includes('look-now') && hostMaps === '') hostMaps = readFileSync(`/proc/${qemuPid}/maps`, 'utf8');
      },
    });
    expect(r.exitCode).toBe(0);
    const modules = r.output.split('\n');
    expect(modules).toContain('virtio_pci');
    expect(modules).not.toContain('virtio_mmio');
    expect(hostMaps).toMatch(/ rw-s .*\/memfd:/); // guest RAM: a shared memfd mapping a vhost-user backend can map too
    expect(r.qemuPid).toBe(qemuPid);
    expect(isAlive(qemuPid)).toBe(false);
  });

  it('kills QEMU when the run times out and shows the console tail', { timeout: BOOT_TIMEOUT_MS }, async () => {
    const started = Date.now();
    const err = await runInVm({
      command: ['sh', '-c', 'echo vm-is-sleeping; exec sleep 600'],
      timeoutMs: 20_000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(TestVmError.is(err)).toBe(true);
    const e = err as TestVmError;
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/did not finish within 20000 ms/);
    // /init prints its first line about 1-2 s into the boot: the tail has at least that
    expect(e.consoleTail).toContain('vnic-testvm: init');
    expect(e.message).toContain(e.consoleTail);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20_000);
    expect(e.qemuPid).toBeGreaterThan(0);
    expect(isAlive(e.qemuPid ?? 0)).toBe(false);
  });

  it('stops on abort, rejects with kind aborted, leaves no QEMU and no run directory', { timeout: BOOT_TIMEOUT_MS }, async () => {
    const before = new Set(readdirVnic());
    const ac = new AbortController();
    let seen = '';
    const err = await runInVm({
      command: ['sh', '-c', 'echo vm-is-sleeping; exec sleep 600'],
      timeoutMs: BOOT_TIMEOUT_MS - 10_000,
      signal: ac.signal,
      onOutput: (c) => {
        seen += c;
        if (seen.includes('vm-is-sleeping')) ac.abort();
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const e = err as TestVmError;
    expect(TestVmError.is(err)).toBe(true);
    expect(e.kind).toBe('aborted');
    expect(e.consoleTail).toContain('vm-is-sleeping');
    expect(isAlive(e.qemuPid ?? 0)).toBe(false);
    expect(readdirVnic().filter((d) => !before.has(d))).toEqual([]);
  });

  it('runs vitest inside one boot and returns passes, failures with their messages, skips', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vm4-report-'));
    try {
      const out = join(dir, 'vitest.json');
      const r = await runVitestInVm(['test/testvm/fixtures/mixed.fixture.ts'], {
        timeoutMs: 590_000,
        outputFile: out,
        vitestArgs: ['--config', 'test/testvm/fixtures/vitest.inVm.config.ts'],
      });
      expect([r.passed, r.failed, r.skipped]).toEqual([1, 1, 1]);
      expect(r.exitCode).toBe(1);
      expect(r.failures).toHaveLength(1);
      expect(r.failures[0]?.file).toBe('test/testvm/fixtures/mixed.fixture.ts');
      expect(r.failures[0]?.name).toBe('fails on purpose');
      expect(r.failures[0]?.messages.join('\n')).toContain('host, deliberately wrong');
      expect(r.failedFiles).toEqual([]);
      expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ numPassedTests: 1, numFailedTests: 1 });
      expect(isAlive(r.run.qemuPid ?? 0)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails clearly when the kernel package cannot be downloaded', { timeout: 120_000 }, async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'vm4-cache-'));
    const saved = process.env['VNIC_TESTVM_KERNEL_PACKAGE'];
    process.env['VNIC_TESTVM_KERNEL_PACKAGE'] = 'linux-image-0.0.0-0-vnic-missing';
    try {
      const err = await prepareTestVm({ cacheDir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(TestVmError.is(err)).toBe(true);
      expect((err as TestVmError).kind).toBe('kernel');
      expect((err as TestVmError).message).toMatch(/downloading the kernel package linux-image-0\.0\.0-0-vnic-missing failed: .*apt-get update/s);
    } finally {
      if (saved === undefined) delete process.env['VNIC_TESTVM_KERNEL_PACKAGE'];
      else process.env['VNIC_TESTVM_KERNEL_PACKAGE'] = saved;
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('names the package and scripts/setup.sh when qemu is missing', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      await expect(runInVm({ command: ['true'], timeoutMs: 1000 })).rejects.toThrow(/qemu-system-x86.*scripts\/setup\.sh/);
    } finally {
      process.env['PATH'] = path;
    }
  });
});

function readdirVnic(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith('vnic-testvm-'));
}
