/**
 * Bytes of guest memory one bit of a dirty log stands for: VHOST_LOG_PAGE (0x1000) of the
 * vhost-user spec (docs/interop/vhost-user.rst, "Migration") and VHOST_PAGE_SIZE of linux
 * drivers/vhost/vhost.c; it is 4 KiB whatever the host's page size.
 */
export const DIRTY_LOG_PAGE_SIZE = 0x1000;
