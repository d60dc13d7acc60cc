/**
 * Why a control-queue command did not decode, as short lower-case messages (the device acks such a
 * command with VIRTIO_NET_ERR and counts it as malformed).
 */
export const NetCtrlError = {
  TOO_SHORT: 'command is shorter than its class and command bytes',
  UNKNOWN_CLASS: 'unknown control class',
  UNKNOWN_COMMAND: 'unknown command in its control class',
  BAD_LENGTH: 'command-specific-data has the wrong length',
  BAD_ON_OFF: 'on/off byte is neither 0 nor 1',
  MAC_TABLE_LENGTH: 'MAC table entry counts do not match the data length',
  VLAN_ID_RANGE: 'VLAN id is 4096 or more',
  VQ_PAIRS_RANGE: 'virtqueue_pairs is outside VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN..MAX',
  COAL_USECS_RANGE: 'max_usecs is above NOTF_COAL_MAX_USECS',
} as const;

/** One of the NetCtrlError messages. */
export type NetCtrlErrorMessage = (typeof NetCtrlError)[keyof typeof NetCtrlError];
