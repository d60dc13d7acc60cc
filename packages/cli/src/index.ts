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
