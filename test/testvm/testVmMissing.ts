import { needsPeer } from '@vnic/sys/testing';
import { testVmUnavailableReason } from '@vnic/testvm';

/**
 * True when this host cannot boot test VMs and the tests should skip (printing why); under CI
 * (env CI set) a missing piece throws instead, so the suite fails loudly (needsPeer).
 */
export function testVmMissing(label: string): boolean {
  return needsPeer(`${label} needs test VMs`, testVmUnavailableReason()).skip;
}
