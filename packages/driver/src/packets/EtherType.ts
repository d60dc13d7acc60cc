/** EtherType values this stack knows (IEEE 802 numbers, linux/if_ether.h ETH_P_*). */
export const EtherType = {
  /** ETH_P_IP */
  IPV4: 0x0800,
  /** ETH_P_ARP */
  ARP: 0x0806,
  /** ETH_P_IPV6 (recognised only to be ignored) */
  IPV6: 0x86dd,
} as const;
