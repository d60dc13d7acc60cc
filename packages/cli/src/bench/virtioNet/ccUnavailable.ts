import { runCc } from './runCc.ts';

/** Why the C references cannot be built here (no cc), or undefined when they can. */
export async function ccUnavailable(): Promise<string | undefined> {
  try {
    await runCc(['--version']);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
