// @vnic/sys/testing: helpers tests and benches share (network namespaces, fd counts, a host tap
// peer, unique names). Explicit barrel. Needs root and iproute2 where it touches the network.

export { Netns } from './Netns.ts';
export { fdCount } from './fdCount.ts';
export { hostTapPeer } from './hostTapPeer.ts';
export type { HostTapPeer } from './hostTapPeer.ts';
export { uniqueName } from './uniqueName.ts';
