/** Namespace flags, names and values as in linux/sched.h. */

/** setns/unshare/clone: the network namespace. */
export const CLONE_NEWNET = 0x40000000;
