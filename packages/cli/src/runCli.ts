import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { NetCoalescing, NetRateLimit } from '@vnic/core';
import type { CliIo } from './CliIo.ts';
import { benches } from './bench/benches.ts';
import { bench } from './commands/bench.ts';
import { checkConfig } from './commands/checkConfig.ts';
import { parseCoalesceOption } from './commands/parseCoalesceOption.ts';
import { parseRateLimitOption } from './commands/parseRateLimitOption.ts';
import { serve } from './commands/serve.ts';
import { runDemo } from './demo/runDemo.ts';
import { processIo } from './processIo.ts';

/**
 * The example VM config `vnic demo` uses by default: the copy shipped in the package (config/, made
 * by the package build from the repository's examples/vm-config.json), else, on sources in the
 * workspace before any build, the repository's own file. Relative to the working directory when below it.
 */
const EXAMPLE_CONFIG =
  [new URL('../config/vm-config.json', import.meta.url), new URL('../../../examples/vm-config.json', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((f) => existsSync(f)) ?? fileURLToPath(new URL('../config/vm-config.json', import.meta.url));
const DEFAULT_CONFIG = relative(process.cwd(), EXAMPLE_CONFIG).startsWith('..') ? EXAMPLE_CONFIG : relative(process.cwd(), EXAMPLE_CONFIG);

function count(name: string, max: number, min = 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** `--rows a,b`: the metric names, none empty. */
function rowList(value: string): string[] {
  const names = value.split(',').map((n) => n.trim());
  if (names.some((n) => n === '')) throw new InvalidArgumentError('--rows takes metric names separated by commas, e.g. tx-64B-mpps,tx-64B-packed-mpps');
  return names;
}

/**
 * Runs the `vnic` command line `argv` (without `node` and the script) and resolves with the exit
 * code: `demo`, `check-config <file>`, `bench <backend>`, `serve --socket <path>`.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code = 0;
  const program = new Command('vnic')
    .description('virtio-net NICs for Node.js VMMs: try a NIC against the host kernel, check VM configs')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run vnic --help for the commands)');

  program
    .command('demo')
    .description('build the first virtio-net NIC of a VM config, drive it as a guest, and talk to the host kernel through its tap in a namespace (needs root)')
    .option('--config <file>', 'VM config to take the NIC from', DEFAULT_CONFIG)
    .addOption(new Option('--pings <n>', 'echo requests to send').argParser(count('--pings', 10_000)).default(5))
    .addOption(new Option('--burst <n>', 'UDP datagrams per direction').argParser(count('--burst', 10_000_000)).default(1000))
    .addOption(new Option('--size <bytes>', 'UDP payload bytes per datagram').argParser(count('--size', 1472, 8)).default(1000))
    .action(async (opts: { config: string; pings: number; burst: number; size: number }) => {
      code = await runDemo({ config: opts.config, pings: opts.pings, burst: opts.burst, size: opts.size }, io);
    });

  program
    .command('check-config')
    .description('validate a VM config against the loaded backends; prints every issue with its field path (exit 1 on issues)')
    .argument('<file>', 'VM config (JSON)')
    .action(async (file: string) => {
      code = await checkConfig(file, io);
    });

  program
    .command('bench')
    .description('benchmark a backend against its reference, measured in the same run (prints a table; --json: one object per line)')
    .argument('<backend>', `bench name: ${Object.keys(benches).join(', ') || '(none yet)'}`)
    .option('--json', 'one JSON object per line: {bench, metric, unit, vnic, reference, ratio, ...}')
    .addOption(new Option('--seconds <n>', 'seconds per measurement').argParser(count('--seconds', 600)))
    .addOption(
      new Option('--rows <metrics>', 'only these rows, comma-separated metric names (e.g. tx-64B-mpps,tx-64B-packed-mpps): the rest is not measured').argParser(
        rowList,
      ),
    )
    .action(async (backend: string, opts: { json?: boolean; seconds?: number; rows?: string[] }) => {
      code = await bench(
        backend,
        { json: opts.json === true, ...(opts.seconds !== undefined ? { seconds: opts.seconds } : {}), ...(opts.rows !== undefined ? { rows: opts.rows } : {}) },
        io,
      );
    });

  program
    .command('serve')
    .description("serve vnic's virtio-net device over vhost-user (vnic is the backend) to QEMU or DPDK virtio_user, frames to a tap, until Ctrl-C (needs root)")
    .requiredOption('--socket <path>', 'vhost-user unix socket: vnic listens on it (or connects with --client)')
    .option('--client', 'connect to a frontend that listens (QEMU server=on, DPDK server=1) instead of listening')
    .option('--tap <name>', 'tap to create or attach to (default vnic%d: the kernel picks a number)')
    .addOption(new Option('--queue-pairs <n>', 'queue pairs (one IO thread each)').argParser(count('--queue-pairs', 16)).default(1))
    .option(
      '--allow-unsealed-memory',
      'also serve frontends whose guest memory is not a memfd sealed against shrinking (F_SEAL_SHRINK): such a frontend can kill vnic serve with SIGBUS',
    )
    .addOption(
      new Option(
        '--handshake-timeout <ms>',
        'milliseconds a frontend has to send SET_OWNER after connecting, and to finish a message it started (an idle one is dropped so the next is served)',
      )
        .argParser(count('--handshake-timeout', 600_000, 10))
        .default(10_000),
    )
    .option('--persistent', 'make a tap this command creates outlive it (for a hand-over to another vnic serve)')
    .addOption(
      new Option(
        '--rate-limit <json>',
        'token buckets per direction, as a NIC\'s "rateLimit": {"rx"|"tx": {"bandwidth"|"ops": {"size", "refillTimeMs", "oneTimeBurst"}}} (bytes, frames)',
      ).argParser(parseRateLimitOption),
    )
    .addOption(
      new Option(
        '--coalesce <json>',
        'notification coalescing per direction, as a NIC\'s "coalescing": {"rx"|"tx": {"maxPackets", "maxUsecs"}} (the frontend serves the control queue, so the guest\'s ethtool -C does not reach vnic serve)',
      ).argParser(parseCoalesceOption),
    )
    .option(
      '--ctrl-vq',
      "whole-device mode: also offer the control queue (NOTF_COAL: the guest's ethtool -C) and config space, and serve them; for frontends that pass every virtqueue through (user-mode Linux virtio_uml), not QEMU's or DPDK's net frontends",
    )
    .option('--state <file>', 'take over the device state another vnic serve saved (--save-state): the reconnecting frontend resumes where it stopped')
    .option('--save-state <file>', 'on SIGUSR2: quiesce, save the device state to <file> (versioned JSON) and stop, for a new vnic serve --state <file>')
    .action(
      async (opts: {
        socket: string;
        client?: boolean;
        tap?: string;
        queuePairs: number;
        allowUnsealedMemory?: boolean;
        handshakeTimeout: number;
        persistent?: boolean;
        rateLimit?: NetRateLimit;
        coalesce?: NetCoalescing;
        ctrlVq?: boolean;
        state?: string;
        saveState?: string;
      }) => {
        code = await serve(
          {
            socket: opts.socket,
            client: opts.client === true,
            queuePairs: opts.queuePairs,
            handshakeTimeoutMs: opts.handshakeTimeout,
            ...(opts.tap === undefined ? {} : { tap: opts.tap }),
            ...(opts.allowUnsealedMemory === true ? { allowUnsealedMemory: true } : {}),
            ...(opts.persistent === true ? { persistent: true } : {}),
            ...(opts.rateLimit === undefined ? {} : { rateLimit: opts.rateLimit }),
            ...(opts.coalesce === undefined ? {} : { coalescing: opts.coalesce }),
            ...(opts.ctrlVq === true ? { controlQueue: true } : {}),
            ...(opts.state === undefined ? {} : { stateFile: opts.state }),
            ...(opts.saveState === undefined ? {} : { saveStateFile: opts.saveState }),
          },
          io,
        );
      },
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return code;
}
