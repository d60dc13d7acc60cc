/**
 * A list of clean-ups that the spec file's `afterEach` (passed in, so this module does not load
 * the test runner) runs after each test, newest first; a failing clean-up is reported
 * (console.warn) and the rest still run. Push what a test opens: `cleanups.push(() => tap.close())`.
 */
export function cleanupAfterEach(afterEach: (fn: () => Promise<void>) => void): (() => void | Promise<void>)[] {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        console.warn('cleanup failed:', e);
      }
    }
  });
  return cleanups;
}
