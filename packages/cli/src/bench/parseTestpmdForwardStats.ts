import { CliError } from '../CliError.ts';

/** One port's totals from testpmd's "Forward statistics" block (printed when forwarding stops). */
export interface TestpmdForwardStats {
  readonly rxPackets: number;
  readonly rxDropped: number;
  readonly txPackets: number;
  /** Frames the forwarding engine built or received but the port's TX burst refused. */
  readonly txDropped: number;
}

/**
 * Parses the last "Forward statistics for port `port`" block of testpmd's output (it prints one
 * per port when it stops forwarding, e.g. on SIGINT); throws a CliError when there is none.
 */
export function parseTestpmdForwardStats(output: string, port = 0): TestpmdForwardStats {
  const blocks = output.split(new RegExp(`-+ Forward statistics for port ${port} +-+`)).slice(1);
  const block = blocks.at(-1);
  const field = (name: string): number | undefined => {
    const m = new RegExp(`${name}:\\s+(\\d+)`).exec(block ?? '');
    return m === null ? undefined : Number(m[1]);
  };
  const stats = { rxPackets: field('RX-packets'), rxDropped: field('RX-dropped'), txPackets: field('TX-packets'), txDropped: field('TX-dropped') };
  if (Object.values(stats).some((v) => v === undefined)) {
    throw new CliError('command-failed', `testpmd printed no forward statistics for port ${port} (did it stop forwarding?):\n${output.slice(-2000)}`);
  }
  return stats as Record<keyof TestpmdForwardStats, number>;
}
