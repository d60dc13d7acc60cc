/**
 * virtio-net definitions, names as in the virtio 1.2 specification §5.1
 * (feature bits §5.1.3, config §5.1.4, header §5.1.6, control queue §5.1.6.5).
 */

/** §5.1.3 Device handles packets with partial checksum. */
export const VIRTIO_NET_F_CSUM = 0;
/** §5.1.3 Driver handles packets with partial checksum. */
export const VIRTIO_NET_F_GUEST_CSUM = 1;
/** §5.1.3 Control channel offloads reconfiguration support. */
export const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
/** §5.1.3 Device maximum MTU reporting is supported. */
export const VIRTIO_NET_F_MTU = 3;
/** §5.1.3 Device has given MAC address. */
export const VIRTIO_NET_F_MAC = 5;
/** §5.1.3 Legacy: device handles packets with any GSO type. */
export const VIRTIO_NET_F_GSO = 6;
/** §5.1.3 Driver can receive TSOv4. */
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
/** §5.1.3 Driver can receive TSOv6. */
export const VIRTIO_NET_F_GUEST_TSO6 = 8;
/** §5.1.3 Driver can receive TSO with ECN. */
export const VIRTIO_NET_F_GUEST_ECN = 9;
/** §5.1.3 Driver can receive UFO. */
export const VIRTIO_NET_F_GUEST_UFO = 10;
/** §5.1.3 Device can receive TSOv4. */
export const VIRTIO_NET_F_HOST_TSO4 = 11;
/** §5.1.3 Device can receive TSOv6. */
export const VIRTIO_NET_F_HOST_TSO6 = 12;
/** §5.1.3 Device can receive TSO with ECN. */
export const VIRTIO_NET_F_HOST_ECN = 13;
/** §5.1.3 Device can receive UFO. */
export const VIRTIO_NET_F_HOST_UFO = 14;
/** §5.1.3 Driver can merge receive buffers. */
export const VIRTIO_NET_F_MRG_RXBUF = 15;
/** §5.1.3 Configuration status field is available. */
export const VIRTIO_NET_F_STATUS = 16;
/** §5.1.3 Control channel is available. */
export const VIRTIO_NET_F_CTRL_VQ = 17;
/** §5.1.3 Control channel RX mode support. */
export const VIRTIO_NET_F_CTRL_RX = 18;
/** §5.1.3 Control channel VLAN filtering. */
export const VIRTIO_NET_F_CTRL_VLAN = 19;
/** §5.1.3 Control channel RX extra mode support. */
export const VIRTIO_NET_F_CTRL_RX_EXTRA = 20;
/** §5.1.3 Driver can send gratuitous packets. */
export const VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
/** §5.1.3 Device supports multiqueue with automatic receive steering. */
export const VIRTIO_NET_F_MQ = 22;
/** §5.1.3 Set MAC address through control channel. */
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
/** §5.1.3 Device supports virtqueue notification coalescing. */
export const VIRTIO_NET_F_VQ_NOTF_COAL = 52;
/** §5.1.3 Device supports notifications coalescing. */
export const VIRTIO_NET_F_NOTF_COAL = 53;
/** §5.1.3 Driver can receive USOv4 packets. */
export const VIRTIO_NET_F_GUEST_USO4 = 54;
/** §5.1.3 Driver can receive USOv6 packets. */
export const VIRTIO_NET_F_GUEST_USO6 = 55;
/** §5.1.3 Device can receive USO packets. */
export const VIRTIO_NET_F_HOST_USO = 56;
/** §5.1.3 Device can report per-packet hash value and type. */
export const VIRTIO_NET_F_HASH_REPORT = 57;
/** §5.1.3 Driver can provide the exact hdr_len value. */
export const VIRTIO_NET_F_GUEST_HDRLEN = 59;
/** §5.1.3 Device supports RSS with Toeplitz hash calculation. */
export const VIRTIO_NET_F_RSS = 60;
/** §5.1.3 Device can process duplicated ACKs and report coalesced segments. */
export const VIRTIO_NET_F_RSC_EXT = 61;
/** §5.1.3 Device may act as a standby for a primary device with the same MAC. */
export const VIRTIO_NET_F_STANDBY = 62;
/** §5.1.3 Device reports speed and duplex. */
export const VIRTIO_NET_F_SPEED_DUPLEX = 63;

/** §5.1.4 Link is up (config `status`). */
export const VIRTIO_NET_S_LINK_UP = 1;
/** §5.1.4 Driver should send a gratuitous packet (config `status`). */
export const VIRTIO_NET_S_ANNOUNCE = 2;

/** §5.1.6 Header flag: the checksum starting at csum_start+csum_offset must be completed. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** §5.1.6 Header flag: the checksum has been validated. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
/** §5.1.6 Header flag: RSC coalescing information is present. */
export const VIRTIO_NET_HDR_F_RSC_INFO = 4;
/** §5.1.6 gso_type: not a GSO frame. */
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** §5.1.6 gso_type: TCPv4 segmentation. */
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** §5.1.6 gso_type: UDP fragmentation. */
export const VIRTIO_NET_HDR_GSO_UDP = 3;
/** §5.1.6 gso_type: TCPv6 segmentation. */
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** §5.1.6 gso_type: UDP segmentation (USO). */
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** §5.1.6 gso_type flag: TCP has ECN set. */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;
/** §5.1.6 Size of `struct virtio_net_hdr` with num_buffers (VERSION_1 or MRG_RXBUF). */
export const VIRTIO_NET_HDR_SIZE = 12;

/** §5.1.6.5 Control queue ack: success. */
export const VIRTIO_NET_OK = 0;
/** §5.1.6.5 Control queue ack: failure. */
export const VIRTIO_NET_ERR = 1;

/** §5.1.6.5.1 Class: packet receive filtering. */
export const VIRTIO_NET_CTRL_RX = 0;
/** §5.1.6.5.1 RX command: promiscuous mode. */
export const VIRTIO_NET_CTRL_RX_PROMISC = 0;
/** §5.1.6.5.1 RX command: all-multicast mode. */
export const VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
/** §5.1.6.5.1 RX command: all-unicast mode (CTRL_RX_EXTRA). */
export const VIRTIO_NET_CTRL_RX_ALLUNI = 2;
/** §5.1.6.5.1 RX command: no multicast (CTRL_RX_EXTRA). */
export const VIRTIO_NET_CTRL_RX_NOMULTI = 3;
/** §5.1.6.5.1 RX command: no unicast (CTRL_RX_EXTRA). */
export const VIRTIO_NET_CTRL_RX_NOUNI = 4;
/** §5.1.6.5.1 RX command: no broadcast (CTRL_RX_EXTRA). */
export const VIRTIO_NET_CTRL_RX_NOBCAST = 5;

/** §5.1.6.5.2 Class: MAC address filtering. */
export const VIRTIO_NET_CTRL_MAC = 1;
/** §5.1.6.5.2 MAC command: set the unicast and multicast filter tables. */
export const VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;
/** §5.1.6.5.2 MAC command: set the default MAC address. */
export const VIRTIO_NET_CTRL_MAC_ADDR_SET = 1;

/** §5.1.6.5.3 Class: VLAN filtering. */
export const VIRTIO_NET_CTRL_VLAN = 2;
/** §5.1.6.5.3 VLAN command: add a VLAN id to the filter. */
export const VIRTIO_NET_CTRL_VLAN_ADD = 0;
/** §5.1.6.5.3 VLAN command: remove a VLAN id from the filter. */
export const VIRTIO_NET_CTRL_VLAN_DEL = 1;

/** §5.1.6.5.4 Class: gratuitous packet sending. */
export const VIRTIO_NET_CTRL_ANNOUNCE = 3;
/** §5.1.6.5.4 Announce command: the driver acknowledges the announce request. */
export const VIRTIO_NET_CTRL_ANNOUNCE_ACK = 0;

/** §5.1.6.5.5 Class: multiqueue. */
export const VIRTIO_NET_CTRL_MQ = 4;
/** §5.1.6.5.5 MQ command: set the number of active queue pairs. */
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET = 0;
/** §5.1.6.5.5 Minimum number of queue pairs. */
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN = 1;
/** §5.1.6.5.5 Maximum number of queue pairs. */
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX = 0x8000;

/** §5.1.6.5.6 Class: guest offloads. */
export const VIRTIO_NET_CTRL_GUEST_OFFLOADS = 5;
/** §5.1.6.5.6 Offloads command: set the offloads the driver can receive. */
export const VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET = 0;

/** §5.1.6.5.9 Class: notifications coalescing (VIRTIO_NET_F_NOTF_COAL, VIRTIO_NET_F_VQ_NOTF_COAL). */
export const VIRTIO_NET_CTRL_NOTF_COAL = 6;
/** §5.1.6.5.9 Coalescing command: `struct virtio_net_ctrl_coal` for every transmit queue. */
export const VIRTIO_NET_CTRL_NOTF_COAL_TX_SET = 0;
/** §5.1.6.5.9 Coalescing command: `struct virtio_net_ctrl_coal` for every receive queue. */
export const VIRTIO_NET_CTRL_NOTF_COAL_RX_SET = 1;
/** §5.1.6.5.9 Coalescing command: `struct virtio_net_ctrl_coal_vq` for one data queue (VQ_NOTF_COAL). */
export const VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET = 2;
/** §5.1.6.5.9 Coalescing command: read one data queue's `struct virtio_net_ctrl_coal` (VQ_NOTF_COAL). */
export const VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET = 3;

/** Largest frame the data plane accepts: 64 KiB GSO payload + ethernet/VLAN headers + virtio_net_hdr. */
export const VIRTIO_NET_MAX_FRAME = 65562;
