import { CliError } from '../CliError.ts';

/** The NIC the demo runs: a one-entry VM config built from the first `virtio-net` entry. */
export interface DemoNic {
  /** Position of the entry in the original `net[]`. */
  readonly index: number;
  /** The entry's id. */
  readonly id: string;
  /** The tap name the demo gave it. */
  readonly tap: string;
  /** `{ ...raw, net: [entry with its tap renamed] }`: other NICs (and their backends) are left out. */
  readonly config: Record<string, unknown>;
}

/**
 * Picks the first `net[]` entry whose backend is `virtio-net` and overrides its tap name with
 * `tap` (a unique one, so the demo never touches an existing interface). Throws a CliError when
 * the config has no such entry.
 */
export function pickDemoNic(raw: unknown, source: string, tap: string): DemoNic {
  const net = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['net'] : undefined;
  const entries = Array.isArray(net) ? (net as unknown[]) : [];
  const index = entries.findIndex((e) => typeof e === 'object' && e !== null && (e as Record<string, unknown>)['backend'] === 'virtio-net');
  if (index < 0) {
    throw new CliError(
      'invalid-argument',
      `${source} has no net[] entry with "backend": "virtio-net"; the demo needs one, e.g. { "id": "net0", "backend": "virtio-net", "mac": "52:54:00:12:34:01", "virtio-net": { "tap": "vnic0" } }`,
    );
  }
  const entry = entries[index] as Record<string, unknown>;
  const section = entry['virtio-net'];
  const renamed = { ...entry, 'virtio-net': { ...(typeof section === 'object' && section !== null ? section : {}), tap } };
  return { index, id: String(entry['id']), tap, config: { ...(raw as Record<string, unknown>), net: [renamed] } };
}
