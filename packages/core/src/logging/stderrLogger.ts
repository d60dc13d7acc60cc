import type { Logger, LogFields } from './Logger.ts';

/**
 * A Logger writing `warn` and `error` lines (and `info`/`debug` when `verbose`) to stderr as
 * `vnic <level>: <message> <fields as JSON>`; for VMMs without a logger of their own.
 */
export function stderrLogger(verbose = false): Logger {
  const write =
    (level: string, on: boolean) =>
    (fields: LogFields, message: string): void => {
      if (!on) return;
      const extra = Object.keys(fields).length === 0 ? '' : ` ${JSON.stringify(fields)}`;
      process.stderr.write(`vnic ${level}: ${message}${extra}\n`);
    };
  return { debug: write('debug', verbose), info: write('info', verbose), warn: write('warn', true), error: write('error', true) };
}
