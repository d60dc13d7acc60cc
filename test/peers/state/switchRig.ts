// What the backend-switch tests share (and `vnic bench state` measures with): a tap owned in a
// throw-away namespace (its fd handed to every virtio-net / vhost-net device as `tapFds`, so the
// interface and its queue outlive each device) and a steady, sequence-numbered UDP stream from
// the guest whose every frame is counted where it ends up (the tap's packet socket in the
// namespace, or back at the guest when a vhost-user backend reflects it), optionally with a
// ReverseStream the other way (tap -> guest). The rig lives in
// @vnic/cli (packages/cli/src/bench/state), next to the bench that uses it.
export { macBytes, ReverseStream, SteadyStream, switchEntry, SwitchTap, udpFrame, udpSeq } from '@vnic/cli';
export type { StreamCount } from '@vnic/cli';
