import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './Bench.ts';
import { makeBenchRow } from './makeBenchRow.ts';

/**
 * The RX load: a C AF_PACKET loop writing 64-byte frames (to the NIC's MAC) into the tap from the
 * namespace side for N seconds. Compiled on the host at bench time (cc), run inside the VM, which
 * shares the host's root. Usage: flood <ifname> <seconds> <dst mac hex>.
 */
const FLOODER_C = String.raw`
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: flood ifname seconds dstmac\n"); return 2; }
  int s = socket(AF_PACKET, SOCK_RAW, 0);
  if (s < 0) { perror("socket"); return 1; }
  struct sockaddr_ll sll; memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET; sll.sll_ifindex = if_nametoindex(argv[1]); sll.sll_halen = 6;
  if (sll.sll_ifindex == 0) { perror("if_nametoindex"); return 1; }
  unsigned char f[64]; memset(f, 0, sizeof f);
  for (int i = 0; i < 6; i++) sscanf(argv[3] + 2 * i, "%2hhx", &f[i]);
  unsigned char src[6] = {0x02, 0, 0, 0, 0x50, 0x03}; memcpy(f + 6, src, 6);
  f[12] = 0x88; f[13] = 0xb5;
  struct timespec t0, t; clock_gettime(CLOCK_MONOTONIC, &t0);
  double secs = atof(argv[2]); unsigned long sent = 0;
  for (;;) {
    for (int k = 0; k < 256; k++) if (sendto(s, f, sizeof f, 0, (struct sockaddr *)&sll, sizeof sll) == sizeof f) sent++;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > secs) break;
  }
  printf("%lu\n", sent);
  return 0;
}
`;

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

/**
 * `vnic bench vhost-net`: boots the test VM (QEMU TCG, the Debian kernel with vhost_net) through
 * @vnic/testvm and, in that one VM run, measures 64-byte TX and RX packet rates of the vhost-net
 * backend (vnic) against the in-process virtio-net backend (reference), same lean guest (the
 * driver fills the rings, the RingRecycler keeps them full), same tap setup. Rows `tx-64B-mpps`, `rx-64B-mpps`.
 */
export const vhostNetBench: Bench = {
  name: 'vhost-net',
  description: 'vhost-net vs the in-process backend, 64 B TX and RX Mpps, inside a QEMU TCG VM with the kernel vhost_net (boots the VM itself)',
  async unavailable() {
    if (process.getuid?.() !== 0) return 'needs root (taps and network namespaces inside the VM, QEMU)';
    for (const tool of ['qemu-system-x86_64', 'cc']) {
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
    const { runInVm } = await loadTestVm();
    const seconds = ctx.seconds ?? 3;
    const dir = join(repoRoot, '.vnic-tmp', 'bench-vhost-net');
    mkdirSync(dir, { recursive: true });
    const flooder = join(dir, 'flood');
    ctx.progress('compiling the RX flooder (cc)');
    writeFileSync(join(dir, 'flood.c'), FLOODER_C);
    execFileSync('cc', ['-O2', '-o', flooder, join(dir, 'flood.c')], { stdio: 'pipe' });
    if (!existsSync(flooder)) throw new Error(`cc produced no ${flooder}`);
    const guest = join(here, import.meta.url.endsWith('.ts') ? 'vhostNetBenchGuest.ts' : 'vhostNetBenchGuest.js'); // sources or dist/
    let pending = ''; // console output arrives in pieces: report whole result lines only
    const result = await runInVm({
      command: [join(repoRoot, 'node_modules', '.bin', 'tsx'), guest, String(seconds), flooder],
      timeoutMs: 600_000 + 8 * seconds * 1000 * 20,
      onProgress: (t) => ctx.progress(`VM: ${t}`),
      onOutput: (chunk) => {
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('VNIC_BENCH_RESULT ')) ctx.progress(`VM: ${line.slice(18).trim()}`);
      },
    });
    const got = new Map<string, GuestResult>();
    for (const line of result.output.split('\n')) {
      if (!line.startsWith('VNIC_BENCH_RESULT ')) continue;
      const r = JSON.parse(line.slice(18)) as GuestResult;
      got.set(`${r.metric}/${r.backend}`, r);
    }
    if (result.exitCode !== 0 || got.size !== 4) {
      throw new Error(`the bench inside the VM failed (exit ${result.exitCode}):\n${result.output.slice(-3000)}`);
    }
    for (const metric of ['tx-64B-mpps', 'rx-64B-mpps']) {
      const v = got.get(`${metric}/vhost-net`)!;
      const r = got.get(`${metric}/virtio-net`)!;
      const cpu = (x: GuestResult): string => `guest ${x.guestUs.toFixed(1)} us, data plane ${x.dataPlaneUs.toFixed(1)} us CPU/frame; ${x.note}`;
      ctx.row(
        makeBenchRow('vhost-net', metric, 'Mpps', round(v.pps / 1e6), round(r.pps / 1e6), {
          referenceName: 'in-process virtio-net backend, same lean guest and tap',
          note: `inside a QEMU TCG VM (2 vCPUs, no KVM), lean RingRecycler guest, ${seconds} s per measurement; vhost-net: ${cpu(v)}; in-process: ${cpu(r)}`,
        }),
      );
    }
  },
};

/** One `VNIC_BENCH_RESULT` line of vhostNetBenchGuest. */
interface GuestResult {
  readonly metric: string;
  readonly backend: string;
  readonly pps: number;
  readonly guestUs: number;
  readonly dataPlaneUs: number;
  readonly note: string;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
