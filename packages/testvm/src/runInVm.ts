import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { RunInVmOptions } from './RunInVmOptions.ts';
import type { RunInVmResult } from './RunInVmResult.ts';
import { TestVmError } from './TestVmError.ts';
import { COMMAND_EXIT_MARKER, COMMAND_START_MARKER } from './image/renderInitScript.ts';
import { prepareTestVm } from './prepareTestVm.ts';
import { repoRoot } from './repoRoot.ts';
import { buildQemuArgs } from './vm/buildQemuArgs.ts';
import { findOnPath } from './vm/findOnPath.ts';
import { renderRunScript } from './vm/renderRunScript.ts';
import { errorMessage } from '@vnic/core';

const QEMU = 'qemu-system-x86_64';
const CONSOLE_LIMIT = 16 * 1024 * 1024;
const TAIL_LINES = 40;

/** Timeout processes of VMs still running: killed if this process exits first. */
const live = new Set<number>();
let exitHookInstalled = false;
function trackLive(pid: number): void {
  live.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });
}

const tail = (text: string): string => text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');

/**
 * Boots a throw-away VM (QEMU TCG, Debian kernel, busybox initramfs, see prepareTestVm), runs
 * `command` in it chrooted to the host's root (read-only; the project directory read-write at the
 * same path; tmpfs /tmp and /run) and resolves once the guest powered off, with the command's exit
 * code and output. QEMU runs under `timeout --foreground` (a safety net if this process dies
 * without cleaning up; a terminal's Ctrl-C reaches QEMU too) and is killed on `timeoutMs` or
 * `signal`; the run directory is removed in every case. A nonzero exit code is returned, not thrown.
 */
export async function runInVm(options: RunInVmOptions): Promise<RunInVmResult> {
  const started = Date.now();
  const progress = options.onProgress ?? (() => {});
  if (options.command.length === 0) throw new TestVmError('invalid-argument', 'command: empty');
  if (!(options.timeoutMs > 0)) throw new TestVmError('invalid-argument', `timeoutMs: ${options.timeoutMs} is not a positive number`);
  for (const k of Object.keys(options.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TestVmError('invalid-argument', `env: "${k}" is not a valid variable name`);
  }
  if (findOnPath(QEMU) === undefined) {
    throw new TestVmError(
      'unavailable',
      `${QEMU} not found: install the Debian package qemu-system-x86 (apt-get install --no-install-recommends qemu-system-x86, or bash scripts/setup.sh)`,
    );
  }
  options.signal?.throwIfAborted();

  const image = await prepareTestVm({
    ...(options.machine === undefined ? {} : { machine: options.machine }),
    ...(options.modules === undefined ? {} : { modules: options.modules }),
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    onProgress: progress,
  });
  const projectDir = options.projectDir ?? repoRoot;
  const hostPath = process.env['PATH'] ?? '/usr/bin:/bin';
  const env: Record<string, string> = {
    PATH: `${hostPath}:/usr/local/sbin:/usr/sbin:/sbin`,
    HOME: '/tmp',
    NO_COLOR: '1',
    TERM: 'dumb',
    VNIC_IN_TESTVM: '1',
    ...(process.env['CI'] === undefined ? {} : { CI: process.env['CI'] }),
    ...options.env,
  };

  const runDir = mkdtempSync(join(tmpdir(), 'vnic-testvm-'));
  try {
    writeFileSync(join(runDir, 'project-dir'), projectDir);
    writeFileSync(join(runDir, 'run.sh'), renderRunScript(options.command, env, options.cwd ?? projectDir));
    for (const [name, data] of Object.entries(options.files ?? {})) {
      if (name.includes('/') || name === 'run.sh' || name === 'project-dir' || name === 'exit-code' || name === 'qemu.pid') {
        throw new TestVmError('invalid-argument', `files: "${name}" is not a plain file name of its own`);
      }
      writeFileSync(join(runDir, name), data);
    }
    const args = buildQemuArgs({
      image,
      memoryMiB: options.memoryMiB ?? 2048,
      cpus: options.cpus ?? 2,
      sharedMemory: options.sharedMemory ?? false,
      runDir,
      projectDir,
      kernelArgs: options.kernelArgs ?? [],
      qemuArgs: options.qemuArgs ?? [],
    });
    progress(`booting ${image.kernelVersion} (${image.machine}, TCG)`);
    const run = await boot(args, Math.ceil(options.timeoutMs / 1000) + 10, options, runDir);
    const totalMs = Date.now() - started;
    if (run.failure !== undefined) {
      const { kind, why } = run.failure;
      throw new TestVmError(kind, `${why}; console tail:\n${tail(run.console)}`, {
        consoleTail: tail(run.console),
        ...(run.qemuPid === undefined ? {} : { qemuPid: run.qemuPid }),
      });
    }
    const codeFile = join(runDir, 'exit-code');
    const code = existsSync(codeFile) ? Number.parseInt(readFileSync(codeFile, 'utf8').trim(), 10) : Number.NaN;
    if (!Number.isInteger(code)) {
      throw new TestVmError(
        'guest',
        `the guest powered off without reporting an exit code (QEMU ${run.exit}${run.stderr === '' ? '' : `, stderr: ${run.stderr.trim()}`}); console tail:\n${tail(run.console)}`,
        { consoleTail: tail(run.console), ...(run.qemuPid === undefined ? {} : { qemuPid: run.qemuPid }) },
      );
    }
    const files: Record<string, Buffer> = {};
    for (const name of options.collect ?? []) {
      const p = join(runDir, name);
      if (!name.includes('/') && existsSync(p)) files[name] = readFileSync(p);
    }
    const start = run.console.indexOf(COMMAND_START_MARKER);
    const end = run.console.lastIndexOf(COMMAND_EXIT_MARKER);
    const output = start < 0 ? '' : run.console.slice(start + COMMAND_START_MARKER.length + 1, end > start ? end : undefined);
    return { exitCode: code, output, console: run.console, bootMs: run.bootMs, totalMs, qemuPid: run.qemuPid, files };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

interface BootOutcome {
  console: string;
  stderr: string;
  bootMs: number;
  qemuPid: number | undefined;
  exit: string;
  failure: { kind: string; why: string } | undefined;
}

/** Runs QEMU under timeout(1) until it exits; kills it on the deadline or abort. */
function boot(args: string[], safetySeconds: number, options: RunInVmOptions, runDir: string): Promise<BootOutcome> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn('timeout', ['--foreground', '--kill-after=3', String(safetySeconds), QEMU, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: BootOutcome = { console: '', stderr: '', bootMs: 0, qemuPid: undefined, exit: '', failure: undefined };
    const decoder = new StringDecoder('utf8');
    let running = false;
    const readPid = (): void => {
      if (out.qemuPid !== undefined) return;
      try {
        const pid = Number.parseInt(readFileSync(join(runDir, 'qemu.pid'), 'utf8'), 10);
        if (pid > 0) {
          out.qemuPid = pid;
          callback('onQemuStarted', () => options.onQemuStarted?.(pid));
        }
      } catch {
        // not written yet
      }
    };
    const stop = (kind: string, why: string): void => {
      if (out.failure !== undefined) return;
      out.failure = { kind, why };
      readPid();
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM'); // timeout(1) forwards it, KILLs 3 s later
      } catch {
        // already gone
      }
      if (out.qemuPid !== undefined) {
        try {
          process.kill(out.qemuPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    /** A throwing callback of the caller stops the VM (kind `aborted`) instead of escaping into the stream. */
    const callback = (name: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        stop('aborted', `${name} threw: ${errorMessage(err)}`);
      }
    };
    const timer = setTimeout(
      () => stop('timeout', `the VM did not finish within ${options.timeoutMs} ms (${running ? 'the command was still running' : 'still booting'})`),
      options.timeoutMs,
    );
    const onAbort = (): void => stop('aborted', 'the VM run was aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (child.pid !== undefined) trackLive(child.pid);
    child.stdout.on('data', (d: Buffer) => {
      const text = decoder.write(d).replace(/\r/g, '');
      if (out.console.length < CONSOLE_LIMIT) out.console += text;
      readPid();
      if (!running && out.console.includes(COMMAND_START_MARKER)) {
        running = true;
        out.bootMs = Date.now() - t0;
        options.onProgress?.(`booted in ${(out.bootMs / 1000).toFixed(1)} s, running ${options.command.join(' ')}`);
      }
      callback('onOutput', () => options.onOutput?.(text));
    });
    child.stderr.on('data', (d: Buffer) => (out.stderr = (out.stderr + d.toString()).slice(-8000)));
    child.once('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new TestVmError('unavailable', `starting ${QEMU} under timeout(1) failed: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.pid !== undefined) live.delete(child.pid);
      out.exit = signal !== null ? `killed by ${signal}` : `exit ${code}`;
      if (out.failure === undefined && code === 124) {
        out.failure = { kind: 'timeout', why: `the VM outlived its ${safetySeconds} s safety limit` };
      } else if (out.failure === undefined && code !== 0 && !running) {
        out.failure = { kind: 'guest', why: `${QEMU} failed before the guest ran the command (${out.exit}): ${out.stderr.trim().slice(-2000)}` };
      }
      resolve(out);
    });
  });
}
