// @vnic/sys/testing: helpers for tests in every package (peers, netns, unique names, fd counts).
export { needsPeer, underCi } from './needsPeer.ts';
export type { PeerCheck } from './needsPeer.ts';
export { hostTapPeer } from './hostTapPeer.ts';
export type { HostTapPeer } from './hostTapPeer.ts';
export { Netns } from './Netns.ts';
export { uniqueName } from './uniqueName.ts';
export { fdCount } from './fdCount.ts';
export { waitUntil } from './waitUntil.ts';
export { cleanupAfterEach } from './cleanupAfterEach.ts';
