import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { RunInVmOptions } from './RunInVmOptions.ts';
import { TestVmError } from './TestVmError.ts';
import type { VitestInVmFailure, VitestInVmResult } from './VitestInVmResult.ts';
import { repoRoot } from './repoRoot.ts';
import { runInVm } from './runInVm.ts';

const REPORT = 'vitest.json';

/** The parts of vitest's JSON reporter output read here. */
interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}

/**
 * Runs vitest on `files` (paths or filters, relative to the project directory) inside ONE test-VM
 * boot: `./node_modules/.bin/vitest run --pool=threads --reporter=default --reporter=json` (pool
 * configurable) with the
 * JSON report written to /run/testvm and read back, and test/hook timeouts raised to
 * `testTimeoutMs` (default 120 s; Node runs ~15-20x slower under TCG). With `outputFile` the
 * report is also copied there on the host (scripts/test.sh uses .vnic-tmp/vitest-3.json).
 * Test failures are returned, not thrown; a run that produced no report throws (kind `guest`).
 */
export async function runVitestInVm(
  files: readonly string[],
  options: Omit<RunInVmOptions, 'command' | 'collect'> & {
    /** Also write vitest's JSON report here on the host. */
    readonly outputFile?: string;
    /** Test and hook timeout in the guest (default 120 s). */
    readonly testTimeoutMs?: number;
    /** vitest pool in the guest (default `threads`: PEERS.md measured one file at 14 s vs 16 s with forks). */
    readonly pool?: 'threads' | 'forks';
    /** More vitest arguments (e.g. `--config`, `--experimental.fsModuleCache`). */
    readonly vitestArgs?: readonly string[];
  },
): Promise<VitestInVmResult> {
  const timeout = String(options.testTimeoutMs ?? 120_000);
  const run = await runInVm({
    ...options,
    command: [
      './node_modules/.bin/vitest',
      'run',
      `--pool=${options.pool ?? 'threads'}`,
      `--testTimeout=${timeout}`,
      `--hookTimeout=${timeout}`,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=/run/testvm/${REPORT}`,
      ...(options.vitestArgs ?? []),
      ...files,
    ],
    collect: [REPORT],
  });
  const raw = run.files[REPORT];
  if (raw === undefined) {
    throw new TestVmError(
      'guest',
      `vitest in the VM wrote no JSON report (exit code ${run.exitCode}); output tail:\n${run.output.trimEnd().split('\n').slice(-30).join('\n')}`,
      { consoleTail: run.console.trimEnd().split('\n').slice(-40).join('\n'), ...(run.qemuPid === undefined ? {} : { qemuPid: run.qemuPid }) },
    );
  }
  if (options.outputFile !== undefined) {
    mkdirSync(dirname(options.outputFile), { recursive: true });
    writeFileSync(options.outputFile, raw);
  }
  const report = JSON.parse(raw.toString('utf8')) as VitestJson;
  const root = options.projectDir ?? repoRoot;
  const failures: VitestInVmFailure[] = [];
  const failedFiles: { file: string; message: string }[] = [];
  for (const f of report.testResults) {
    const file = relative(root, f.name);
    if (f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed')) {
      failedFiles.push({ file, message: f.message ?? 'failed' });
    }
    for (const a of f.assertionResults) {
      if (a.status === 'failed') failures.push({ file, name: a.fullName, messages: a.failureMessages ?? [] });
    }
  }
  return {
    exitCode: run.exitCode,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + report.numTodoTests,
    failedFiles,
    failures,
    report,
    run,
  };
}
