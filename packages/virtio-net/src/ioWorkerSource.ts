import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VirtioNetError } from './VirtioNetError.ts';

/** What `new Worker(...)` takes to start an IO thread. */
interface IoWorkerSource {
  /** A file URL, or the script itself when `eval` is true. */
  readonly filename: string | URL;
  readonly eval: boolean;
}

let cached: Promise<IoWorkerSource> | undefined;

/**
 * How to start an IO thread, resolved once per process.
 *
 * Compiled to JavaScript, the package starts `ioWorker.js` next to this file. Run from its `.ts`
 * sources (the way this workspace runs, under vitest or tsx), it cannot do that on Node 20: a
 * worker does not inherit the main thread's loader, ignores `--import tsx` in `execArgv`, and
 * registering tsx inside every worker costs ~300 ms per thread (a hooks thread plus a transform
 * per module). Instead ioWorker.ts and what it imports (@vnic/core, @vnic/sys) are bundled once
 * with esbuild into one CommonJS script (koffi stays external, required by absolute path), and
 * each worker evaluates that script: ~25 ms per thread, independent of how the main thread loads
 * TypeScript.
 */
export function ioWorkerSource(): Promise<IoWorkerSource> {
  cached ??= load().catch((e: unknown) => {
    cached = undefined; // let a later activation retry
    throw e;
  });
  return cached;
}

async function load(): Promise<IoWorkerSource> {
  const self = import.meta.url;
  if (self.endsWith('.js') || self.endsWith('.mjs')) return { filename: new URL('./ioWorker.js', self), eval: false };
  const entry = fileURLToPath(new URL('./ioWorker.ts', self));
  try {
    const require = createRequire(self);
    // koffi is @vnic/sys's dependency: resolve it from there, and let the worker require it by path.
    const koffi = createRequire(require.resolve('@vnic/sys/package.json')).resolve('koffi');
    const esbuild = await import('esbuild');
    try {
      const out = await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        format: 'cjs',
        platform: 'node',
        target: 'node20',
        write: false,
        keepNames: true,
        logLevel: 'silent',
        plugins: [
          {
            name: 'vnic-koffi-external',
            setup(build) {
              build.onResolve({ filter: /^koffi$/ }, () => ({ path: koffi, external: true }));
            },
          },
        ],
      });
      const script = out.outputFiles[0]?.text;
      if (script === undefined) throw new Error('esbuild produced no output');
      return { filename: script, eval: true };
    } finally {
      await esbuild.stop(); // no esbuild service process (or its pipes) left behind
    }
  } catch (e) {
    throw new VirtioNetError('io-thread', `cannot build the IO thread script from ${entry}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
