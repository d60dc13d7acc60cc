import { CliError } from '../../CliError.ts';

/**
 * Finds the last line of `stdout` that is a JSON object and returns it, checking that each of
 * `fields` is a finite non-negative number. `what` names the program in the error thrown when
 * there is no such line or a field is missing.
 */
export function parseResultLine<K extends string>(stdout: string, fields: readonly K[], what: string): Record<K, number> {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .at(-1);
  if (line === undefined) throw new CliError('command-failed', `${what} printed no result line (stdout: ${stdout.trim() || '(empty)'})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    throw new CliError('command-failed', `${what} printed a result line that is not JSON: ${line}`, { cause: e });
  }
  const obj = parsed as Record<string, unknown>;
  const out = {} as Record<K, number>;
  for (const f of fields) {
    const v = obj[f];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new CliError('command-failed', `${what}: result field "${f}" is missing or not a number in ${line}`);
    out[f] = v;
  }
  return out;
}
