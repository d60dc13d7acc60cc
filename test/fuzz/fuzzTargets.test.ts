import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzTargets } from '../../fuzz/fuzzTargets.ts';

// Coverage-less fuzzing (jazzer.js's native addon does not load on this glibc, see fuzz/README.md):
// every corpus file is replayed, then fast-check mutates corpus seeds and random bytes with a fixed
// seed. FUZZ_RUNS raises the iteration count for a longer local run.
const root = join(import.meta.dirname, '../../fuzz/corpus');
const runs = Number(process.env['FUZZ_RUNS'] ?? 3000);

function corpus(name: string): Uint8Array[] {
  const dir = join(root, name);
  return readdirSync(dir)
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** A seed with a few bytes overwritten, inserted or cut. */
function mutated(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('set', 'insert', 'cut', 'xor') });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 8 })).map(([seed, edits]) => {
    let b = Array.from(seed);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      if (e.op === 'set') b[at] = e.byte;
      else if (e.op === 'xor') b[at] = (b[at] ?? 0) ^ (1 << (e.byte % 8));
      else if (e.op === 'insert') b.splice(at, 0, e.byte);
      else b = b.slice(0, at);
    }
    return Uint8Array.from(b);
  });
}

describe('fuzz targets (corpus replay + seeded mutation)', () => {
  for (const [name, target] of Object.entries(fuzzTargets)) {
    it(`${name}: every corpus input passes the oracle`, async () => {
      const seeds = corpus(name);
      expect(seeds.length).toBeGreaterThan(0);
      for (const s of seeds) await target(s);
    });
    it(`${name}: ${runs} mutated and random inputs pass the oracle`, async () => {
      const seeds = corpus(name);
      const input = fc.oneof({ weight: 3, arbitrary: mutated(seeds) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) });
      await fc.assert(
        fc.asyncProperty(input, async (data) => target(data)),
        { seed: 0x5eed, numRuns: runs },
      );
    }, 60_000);
  }
});
