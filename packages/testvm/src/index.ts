export { TestVmError } from './TestVmError.ts';
export type { TestVmImage, TestVmMachine } from './TestVmImage.ts';
export type { PrepareTestVmOptions } from './PrepareTestVmOptions.ts';
export { DEFAULT_TEST_VM_MODULES } from './DEFAULT_TEST_VM_MODULES.ts';
export { prepareTestVm, defaultTestVmCacheDir } from './prepareTestVm.ts';
export type { RunInVmOptions } from './RunInVmOptions.ts';
export type { RunInVmResult } from './RunInVmResult.ts';
export { runInVm } from './runInVm.ts';
