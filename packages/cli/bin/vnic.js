#!/usr/bin/env node
// The `vnic` command. The workspace ships TypeScript sources, so tsx loads them.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
