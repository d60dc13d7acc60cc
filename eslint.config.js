// ESLint (flat config) with typescript-eslint's type-checked rules; Prettier owns formatting
// (eslint-config-prettier switches off the rules that would fight it). `pnpm lint` runs this and
// `prettier --check`; a warning fails it (--max-warnings 0).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.vnic-tmp/**', 'fuzz/corpus/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An `async` method that does not await is how a Promise-returning contract (activateDataPlane,
      // closeBackend, a conformance harness's setup) turns a synchronous throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter or binding kept on purpose (a destructured-away field, an
      // interface-shaped callback): unused only when it does not say so.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Fire-and-forget is the exception: a floating promise must be awaited or marked `void`.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // Template literals print numbers (and bigints, under allowNumber) (offsets, feature bits, errno) all the time;
      // objects and unknowns are still refused.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    // Specs and tests: vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed
    // `any` by vitest itself, so an object literal of expected values trips no-unsafe-assignment.
    files: ['**/*.spec.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // Plain JS (this file, scripts, examples): no type information; Node globals declared here.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  prettier,
);
