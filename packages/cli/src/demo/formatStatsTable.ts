import type { QueueStats } from '@vnic/core';

/**
 * device.stats() as an aligned text table, one row per queue, with each queue's role: `rx<N>` /
 * `tx<N>` for pair N, `ctrl` for the control queue (the last one when there are 2 * pairs + 1).
 */
export function formatStatsTable(stats: readonly QueueStats[], queuePairs: number, indent = ''): string {
  const roleOf = (index: number): string => (index >= 2 * queuePairs ? 'ctrl' : `${index % 2 === 0 ? 'rx' : 'tx'}${Math.floor(index / 2)}`);
  const head = ['queue', 'role', 'packets', 'bytes', 'drops', 'malformed', 'noBuffer', 'filtered'];
  const rows = stats.map((s) => [s.index, roleOf(s.index), s.packets, s.bytes, s.drops, s.malformed, s.noBuffer, s.filtered].map(String));
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string => indent + cells.map((v, c) => (c < 2 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
