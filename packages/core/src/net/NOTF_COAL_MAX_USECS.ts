/**
 * Largest `max_usecs` the device takes (1 s): a frame never waits longer for its notification
 * than this; a command asking more is acked VIRTIO_NET_ERR (§5.1.6.5.9: "the device SHOULD respond
 * ... with VIRTIO_NET_ERR if it was not able to change the parameters").
 */
export const NOTF_COAL_MAX_USECS = 1_000_000;
