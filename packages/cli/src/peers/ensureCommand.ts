import { execFileSync } from 'node:child_process';

/** True when `command` is on PATH. */
function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v '${command.replaceAll("'", '')}'`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure `command` (a program name on PATH or an absolute path) is there, installing
 * `debianPackages` with apt-get when it is missing and we are root. Returns undefined when it is
 * available, else the reason it is not (for a skip message or an error).
 */
export function ensureCommand(command: string, debianPackages: readonly string[]): string | undefined {
  if (onPath(command)) return undefined;
  if (process.getuid?.() !== 0) return `${command} is missing and installing it (apt-get install ${debianPackages.join(' ')}) needs root`;
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debianPackages], {
      stdio: 'pipe',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 300_000,
    });
  } catch (err) {
    return `apt-get install ${debianPackages.join(' ')} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
  return onPath(command) ? undefined : `${command} is still missing after apt-get install ${debianPackages.join(' ')}`;
}
