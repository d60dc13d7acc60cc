/** Single-quotes a word for sh. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * /run/testvm/run.sh, run by the guest's /bin/sh inside the chroot: exports the environment,
 * changes to `cwd` (exit 125 when it is missing) and execs the command.
 */
export function renderRunScript(command: readonly string[], env: Readonly<Record<string, string>>, cwd: string): string {
  const lines = ['# written by @vnic/testvm'];
  for (const [k, v] of Object.entries(env)) lines.push(`export ${k}=${shQuote(v)}`);
  lines.push(`cd ${shQuote(cwd)} || exit 125`);
  lines.push(`exec ${command.map(shQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}
