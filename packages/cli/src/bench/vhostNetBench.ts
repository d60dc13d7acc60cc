import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './Bench.ts';
import type { BenchContext } from './BenchContext.ts';
import { checkHeadroom, type HeadroomSample } from './checkHeadroom.ts';
import { combineLoads } from './combineLoads.ts';
import type { Headroom } from './Headroom.ts';
import { makeBenchRow } from './makeBenchRow.ts';
import { summarizeRounds } from './virtioNet/summarizeRounds.ts';

/**
 * @vnic/testvm, loaded only when this bench runs: it is a private workspace package (a devDependency
 * of @vnic/cli), so an installed `vnic` has no test VM and says so instead of failing at start-up.
 */
async function loadTestVm(): Promise<typeof import('@vnic/testvm')> {
  try {
    return await import('@vnic/testvm');
  } catch (e) {
    throw new Error(
      `vnic bench vhost-net needs @vnic/testvm (the private test-VM package of the vnic repository), which is not installed: run it from a checkout of the vnic repository (pnpm bench vhost-net) (${e instanceof Error ? e.message : String(e)})`,
      { cause: e },
    );
  }
}

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..', '..', '..', '..');

/** Windows per backend and metric, alternating vhost-net and in-process (the median is reported). */
const ROUNDS = 5;

/**
 * `vnic bench vhost-net`: boots the test VM (QEMU TCG, the Debian kernel with vhost_net) through
 * @vnic/testvm and, in that one VM run, measures 64-byte TX and RX packet rates of the vhost-net
 * backend (vnic) against the in-process virtio-net backend (reference), same lean guest (the
 * driver fills the rings, the RingRecycler keeps them full), same tap setup, same RX source
 * (the kernel's pktgen, vhostNet/Pktgen.ts), windows alternating, the median of {@link ROUNDS}.
 * Rows `tx-64B-mpps`, `rx-64B-mpps`, each with its load check (source-limited when the guest or
 * pktgen could not outrun the data plane).
 */
export const vhostNetBench: Bench = {
  name: 'vhost-net',
  description: 'vhost-net vs the in-process backend, 64 B TX and RX Mpps, inside a QEMU TCG VM with the kernel vhost_net (boots the VM itself)',
  async unavailable() {
    if (process.getuid?.() !== 0) return 'needs root (taps and network namespaces inside the VM, QEMU)';
    for (const tool of ['qemu-system-x86_64']) {
      try {
        execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
      } catch {
        return `${tool} is not installed (bash scripts/setup.sh installs it)`;
      }
    }
    try {
      await loadTestVm();
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    return undefined;
  },
  async run(ctx) {
    await runVm(ctx, ctx.seconds ?? 3);
  },
};

/** Boots the VM, runs vhostNetBenchGuest in it and reports its rows. */
async function runVm(ctx: BenchContext, seconds: number): Promise<void> {
  const { runInVm } = await loadTestVm();
  const guest = join(here, import.meta.url.endsWith('.ts') ? 'vhostNetBenchGuest.ts' : 'vhostNetBenchGuest.js'); // sources or dist/
  let pending = ''; // console output arrives in pieces: report whole result lines only
  const result = await runInVm({
    command: [join(repoRoot, 'node_modules', '.bin', 'tsx'), guest, String(seconds), String(ROUNDS)],
    modules: ['pktgen'], // the RX source
    timeoutMs: 600_000 + 8 * ROUNDS * seconds * 1000 * 20,
    onProgress: (t) => ctx.progress(`VM: ${t}`),
    onOutput: (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('VNIC_BENCH_RESULT ')) ctx.progress(`VM: ${line.slice(18).trim()}`);
    },
  });
  const got = new Map<string, GuestResult[]>();
  for (const line of result.output.split('\n')) {
    if (!line.startsWith('VNIC_BENCH_RESULT ')) continue;
    const r = JSON.parse(line.slice(18)) as GuestResult;
    const key = `${r.metric}/${r.backend}`;
    got.set(key, [...(got.get(key) ?? []), r]);
  }
  if (result.exitCode !== 0 || got.size !== 4 || [...got.values()].some((l) => l.length !== ROUNDS)) {
    throw new Error(`the bench inside the VM failed (exit ${result.exitCode}):\n${result.output.slice(-3000)}`);
  }
  for (const metric of ['tx-64B-mpps', 'rx-64B-mpps']) {
    const v = summarize(got.get(`${metric}/vhost-net`)!);
    const r = summarize(got.get(`${metric}/virtio-net`)!);
    ctx.row(
      makeBenchRow('vhost-net', metric, 'Mpps', round(v.mpps), round(r.mpps), {
        referenceName: 'in-process virtio-net backend, same lean guest and tap',
        note: `inside a QEMU TCG VM (2 vCPUs, no KVM), lean RingRecycler guest${metric.startsWith('rx') ? ', pktgen flooding the tap' : ''}, median of ${ROUNDS} alternating windows of ${seconds} s; vhost-net: ${v.note}; in-process: ${r.note}`,
        headroom: { 'vhost-net': v.headroom, 'in-process': r.headroom },
      }),
    );
  }
}

/** One backend's windows: the median rate, its spread, the last window's details, the load check over all. */
function summarize(windows: readonly GuestResult[]): { mpps: number; note: string; headroom: Headroom } {
  const rates = summarizeRounds(windows.map((w) => w.pps / 1e6));
  const last = windows.at(-1)!;
  const load = combineLoads(windows.map((w) => w.load));
  if (load === undefined) throw new Error('vhostNetBenchGuest printed no load sample');
  return {
    mpps: rates.median,
    note: `${round(rates.min)}..${round(rates.max)} Mpps; last window: guest ${last.guestUs.toFixed(1)} us, data plane ${last.dataPlaneUs.toFixed(1)} us CPU/frame; ${last.note}`,
    headroom: checkHeadroom(load),
  };
}

/** One `VNIC_BENCH_RESULT` line of vhostNetBenchGuest. */
interface GuestResult {
  readonly metric: string;
  readonly backend: string;
  readonly pps: number;
  readonly guestUs: number;
  readonly dataPlaneUs: number;
  readonly note: string;
  readonly load: HeadroomSample;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
