import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.spec.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    // test/vm/ holds tests that run INSIDE a test VM (@vnic/testvm sets VNIC_IN_TESTVM=1 there;
    // scripts/test.sh runs them through runVitestInVm); host runs leave them out.
    exclude: process.env['VNIC_IN_TESTVM'] === '1' ? configDefaults.exclude : [...configDefaults.exclude, 'test/vm/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
