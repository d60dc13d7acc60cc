// @vnic/cli public surface (explicit barrel): the network-namespace helpers the demo, the tests
// and the examples share. The command itself is src/main.ts (bin `vnic`).
export { CliError } from './CliError.ts';
export type { CommandResult } from './netns/CommandResult.ts';
export type { LinkCounters } from './netns/LinkCounters.ts';
export { Netns } from './netns/Netns.ts';
export { netnsSupport } from './netns/netnsSupport.ts';
export { runCommand } from './netns/runCommand.ts';
export { uniqueName } from './netns/uniqueName.ts';

// The command, for embedding and tests.
export type { CliIo } from './CliIo.ts';
export { processIo } from './processIo.ts';
export { runCli } from './runCli.ts';
export type { DemoOptions } from './demo/DemoOptions.ts';
export { runDemo } from './demo/runDemo.ts';
export { formatStatsTable } from './demo/formatStatsTable.ts';
export { checkConfig } from './commands/checkConfig.ts';
export { serve } from './commands/serve.ts';
export type { ServeOptions } from './commands/serve.ts';

// Benchmarks: `vnic bench <name>`; each bench is one file under src/bench, listed in `benches`.
export type { Bench } from './bench/Bench.ts';
export type { BenchContext } from './bench/BenchContext.ts';
export type { BenchRow } from './bench/BenchRow.ts';
export type { BenchLimit } from './bench/BenchLimit.ts';
export { makeBenchRow } from './bench/makeBenchRow.ts';
export { benches } from './bench/benches.ts';
export { formatBenchTable } from './bench/formatBenchTable.ts';
export { virtioNetBench } from './bench/virtioNetBench.ts';
export type { VirtioNetBenchOptions } from './bench/virtioNet/VirtioNetBenchOptions.ts';
export { bench } from './commands/bench.ts';
export type { BenchOptions } from './commands/bench.ts';

// Real peers the benches and the tests start (DPDK testpmd), and installing what they need.
export { Testpmd } from './peers/Testpmd.ts';
export { parseTestpmdForwardStats } from './bench/parseTestpmdForwardStats.ts';
export type { TestpmdForwardStats } from './bench/parseTestpmdForwardStats.ts';
export type { TestpmdOptions } from './peers/TestpmdOptions.ts';
export { SwitchTap } from './bench/state/SwitchTap.ts';
export { SteadyStream } from './bench/state/SteadyStream.ts';
export { ReverseStream } from './bench/state/ReverseStream.ts';
export type { StreamCount } from './bench/state/StreamCount.ts';
export { switchEntry } from './bench/state/switchEntry.ts';
export { macBytes } from './bench/state/macBytes.ts';
export { udpFrame } from './bench/state/udpFrame.ts';
export { udpSeq } from './bench/state/udpSeq.ts';
export { ensureCommand } from './peers/ensureCommand.ts';
