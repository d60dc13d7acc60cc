/** Every offload off: a tap, the kernel and testpmd all give the rest, so a guest can move between them. */
const OFFLOADS_OFF = Object.fromEntries(
  ['csum', 'guestCsum', 'hostTso4', 'hostTso6', 'hostEcn', 'hostUfo', 'guestTso4', 'guestTso6', 'guestEcn', 'guestUfo'].map((k) => [k, false]),
);

/** A `net[]` entry for NIC `id` on `backend` with that backend's `section` (same MAC and limits every time). */
export function switchEntry(
  id: string,
  mac: string,
  backend: string,
  section: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id, backend, mac, queuePairs: 1, queueSize: 256, offloads: OFFLOADS_OFF, ...extra, [backend]: section };
}
