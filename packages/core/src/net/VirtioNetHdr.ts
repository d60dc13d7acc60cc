/**
 * `struct virtio_net_hdr` as negotiated with VIRTIO_F_VERSION_1 (virtio 1.2 §5.1.6): 12 bytes,
 * little-endian, `num_buffers` always present, no hash report fields. Plain mutable data so a
 * hot path can decode into one reused object.
 */
export interface VirtioNetHdr {
  /** VIRTIO_NET_HDR_F_* bits (u8 at 0). */
  flags: number;
  /** VIRTIO_NET_HDR_GSO_* value, possibly with VIRTIO_NET_HDR_GSO_ECN (u8 at 1). */
  gsoType: number;
  /** Length of the headers to replicate per segment (le16 at 2). */
  hdrLen: number;
  /** Segment payload size, the MSS (le16 at 4). */
  gsoSize: number;
  /** Offset where checksumming starts (le16 at 6). */
  csumStart: number;
  /** Offset from csumStart where the checksum goes (le16 at 8). */
  csumOffset: number;
  /** Number of merged receive buffers (le16 at 10); 0 on transmit. */
  numBuffers: number;
}
