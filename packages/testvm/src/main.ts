#!/usr/bin/env node
// The test-VM command line (scripts/vm-run.sh runs it through tsx):
//   vm-run.sh [options] [--] <command...>       run a command in a throw-away VM, exit with its code
//   vm-run.sh --vitest [options] <files...>      run vitest on files inside one VM boot
import { parseArgs } from 'node:util';
import { TestVmError } from './TestVmError.ts';
import type { TestVmMachine } from './TestVmImage.ts';
import { runInVm } from './runInVm.ts';
import { runVitestInVm } from './runVitestInVm.ts';
import { errorMessage } from '@vnic/core';

const USAGE = `usage: scripts/vm-run.sh [options] [--] <command...>
       scripts/vm-run.sh --vitest [--json-out FILE] [options] <test files or filters...>
options:
  --timeout SECONDS   whole-run limit, boot included (default 600)
  --machine NAME      microvm (default) or q35
  --memory MIB        guest memory (default 2048)
  --cpus N            guest vCPUs (default 2)
  --module NAME       extra kernel module to load (repeatable)
  --quiet             no progress lines
The command runs chrooted to this host's / (read-only) with the project directory read-write,
in the Debian kernel under QEMU TCG (see packages/testvm/README.md).`;

const VALUE_OPTIONS = new Set(['--json-out', '--timeout', '--machine', '--memory', '--cpus', '--module']);

/** Options end at `--` or at the first word that is not an option: the command keeps its own flags. */
function splitArgv(argv: readonly string[]): { head: string[]; rest: string[] } {
  let i = 0;
  while (i < argv.length) {
    const a = argv[i] ?? '';
    if (a === '--') return { head: argv.slice(0, i), rest: argv.slice(i + 1) };
    if (!a.startsWith('-')) break;
    i += VALUE_OPTIONS.has(a) ? 2 : 1;
  }
  return { head: argv.slice(0, i), rest: argv.slice(i) };
}

async function main(argv: string[]): Promise<number> {
  const { head, rest } = splitArgv(argv);
  const { values } = parseArgs({
    args: head,
    allowPositionals: false,
    strict: true,
    options: {
      vitest: { type: 'boolean' },
      'json-out': { type: 'string' },
      timeout: { type: 'string', default: '600' },
      machine: { type: 'string', default: 'microvm' },
      memory: { type: 'string', default: '2048' },
      cpus: { type: 'string', default: '2' },
      module: { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const positionals = rest;
  if (values.help === true || positionals.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return values.help === true ? 0 : 2;
  }
  const num = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new TestVmError('invalid-argument', `--${name}: "${v}" is not a positive integer`);
    return n;
  };
  if (values.machine !== 'microvm' && values.machine !== 'q35') {
    throw new TestVmError('invalid-argument', `--machine: "${values.machine}" is not microvm or q35`);
  }
  const quiet = values.quiet === true;
  const common = {
    timeoutMs: num('timeout', values.timeout) * 1000,
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the checks above narrow values.machine, but the object literal widens the property back to string: without the cast tsc fails (TS2379 at runVitestInVm)
    machine: values.machine as TestVmMachine,
    memoryMiB: num('memory', values.memory),
    cpus: num('cpus', values.cpus),
    modules: values.module ?? [],
    onProgress: (text: string) => {
      if (!quiet) process.stderr.write(`\x1b[1m[vm]\x1b[0m ${text}\n`);
    },
    onOutput: (chunk: string) => process.stdout.write(chunk),
  };
  const aborter = new AbortController();
  process.once('SIGINT', () => aborter.abort());
  process.once('SIGTERM', () => aborter.abort());
  if (values.vitest === true) {
    const r = await runVitestInVm(positionals, {
      ...common,
      signal: aborter.signal,
      ...(values['json-out'] === undefined ? {} : { outputFile: values['json-out'] }),
    });
    for (const f of r.failedFiles) process.stderr.write(`FAILED FILE ${f.file}: ${f.message}\n`);
    for (const f of r.failures) process.stderr.write(`FAILED ${f.file} > ${f.name}\n  ${f.messages.join('\n  ').split('\n').slice(0, 12).join('\n  ')}\n`);
    common.onProgress(
      `vitest in the VM: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (boot ${(r.run.bootMs / 1000).toFixed(1)} s, total ${(r.run.totalMs / 1000).toFixed(1)} s)`,
    );
    return r.exitCode;
  }
  const r = await runInVm({ ...common, command: positionals, signal: aborter.signal });
  common.onProgress(`exit code ${r.exitCode} (boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s)`);
  return r.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vm-run: ${errorMessage(err)}\n`);
    process.exit(TestVmError.is(err) && err.kind === 'timeout' ? 124 : 1);
  },
);
