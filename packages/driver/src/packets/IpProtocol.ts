/** IPv4 protocol numbers this stack knows (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = {
  /** RFC 792 */
  ICMP: 1,
  /** RFC 768 */
  UDP: 17,
} as const;
