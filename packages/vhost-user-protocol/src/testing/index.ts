// @vnic/vhost-user-protocol/testing: helpers for the specs of both sides (explicit barrel).
export { MessageReframer } from './MessageReframer.ts';
