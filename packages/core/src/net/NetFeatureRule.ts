/** One virtio-net feature dependency (virtio 1.2 §5.1.3.1): `feature` requires one of `requiresAnyOf`. */
export interface NetFeatureRule {
  /** The dependent feature bit. */
  readonly feature: number;
  /** Feature bits of which at least one must be present too. */
  readonly requiresAnyOf: readonly number[];
  /** The rule in the spec's words, e.g. `VIRTIO_NET_F_GUEST_TSO4 requires VIRTIO_NET_F_GUEST_CSUM`. */
  readonly text: string;
}
