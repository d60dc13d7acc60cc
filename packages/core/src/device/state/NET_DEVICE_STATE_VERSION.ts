/** Version of the NetDeviceState layout this vnic writes and accepts. */
export const NET_DEVICE_STATE_VERSION = 1;
