/** Marker line the guest prints right before it starts the command (ends the boot phase). */
export const COMMAND_START_MARKER = '--- vnic-testvm: command start ---';
/** Prefix of the marker line the guest prints after the command, followed by its exit code. */
export const COMMAND_EXIT_MARKER = '--- vnic-testvm: command exit ';

/**
 * The initramfs /init (busybox sh): mount proc/sys/devtmpfs, insmod the modules of
 * /modules.list in order, mount the host root read-only (9p tag `hostroot`) on /newroot, a tmpfs
 * on its /run with the run directory (tag `run`) at /run/testvm, the project directory read-write
 * (tag `project`, path in /run/testvm/project-dir) at the same path, proc/sys/dev/tmp; then
 * chroot, run /run/testvm/run.sh (output through a pipe, so not a tty), write its exit code to /run/testvm/exit-code, sync, poweroff.
 */
export function renderInitScript(): string {
  const p9 = 'trans=virtio,version=9p2000.L,msize=512000';
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "vnic-testvm: $*"; poweroff -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "vnic-testvm: init: loading $(wc -l < /modules.list) modules"
while read -r m; do insmod "/lib/modules/$m.ko" || echo "vnic-testvm: insmod $m failed"; done < /modules.list
mount -t 9p -o ro,${p9},cache=loose hostroot /newroot || fail "mounting the host root over 9p failed"
mount -t tmpfs -o mode=0755 tmpfs /newroot/run || fail "tmpfs on /run failed"
mkdir -p /newroot/run/testvm
mount -t 9p -o ${p9} run /newroot/run/testvm || fail "mounting the run directory over 9p failed"
# /tmp first: a project directory below /tmp (a CI clone in /tmp) must be mounted on top of it.
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
project="$(cat /newroot/run/testvm/project-dir)"
mkdir -p "/newroot$project" 2>/dev/null
mount -t 9p -o ${p9},cache=loose project "/newroot$project" || fail "mounting the project directory $project over 9p failed"
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
ip link set lo up
echo "${COMMAND_START_MARKER}"
# Through a pipe, not the serial tty: tools print plain lines instead of redrawing a live view.
set -o pipefail
chroot /newroot /bin/sh /run/testvm/run.sh < /dev/null 2>&1 | cat
rc=$?
echo "$rc" > /newroot/run/testvm/exit-code
sync
echo "${COMMAND_EXIT_MARKER}$rc ---"
poweroff -f
`;
}
