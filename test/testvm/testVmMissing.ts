import { testVmUnavailableReason } from '@vnic/testvm';

/**
 * True when this host cannot boot test VMs and the tests should skip (printing why); under CI
 * (env CI set) a missing piece throws instead, so the suite fails loudly.
 */
export function testVmMissing(label: string): boolean {
  const reason = testVmUnavailableReason();
  if (reason === undefined) return false;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') throw new Error(`${label} needs test VMs: ${reason}`);
  console.warn(`[${label}] skipped: ${reason}`);
  return true;
}
