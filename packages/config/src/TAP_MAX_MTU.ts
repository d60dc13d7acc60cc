/**
 * Largest MTU a tap takes: the tun driver caps it at 65535 (its MAX_MTU) less the tap's 14-byte
 * Ethernet header, 65521 (checked on a real tap: `ip link set tapX mtu 65522` fails with "mtu
 * greater than device maximum", `ip -d link` shows maxmtu 65521). Every backend here moves frames
 * through a tap, so a larger MTU would pass the config and fail when the tap is set up.
 */
export const TAP_MAX_MTU = 65521;
