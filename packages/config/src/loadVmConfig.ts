import { readFile } from 'node:fs/promises';
import { ConfigError } from './ConfigError.ts';

/** Reads and parses a JSON VM config file; errors name the file and what to fix. */
export async function loadVmConfig(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError('invalid-config', `cannot read VM config ${path}: ${code} — check the path and permissions`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError('invalid-config', `VM config ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
