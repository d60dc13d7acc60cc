import { fileURLToPath } from 'node:url';

/** The workspace root (this file is packages/testvm/src/repoRoot.ts). */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
