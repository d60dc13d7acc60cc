#!/usr/bin/env bash
# Installs everything vnic needs on a fresh Debian 12 + Node 20 machine (as root):
# Debian packages for the peers, pnpm 12.4.2, and the workspace dependencies.
# Idempotent: fast when everything is already there. Sourced by test.sh and demo.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PNPM_VERSION=12.4.2
# Debian packages: iproute2 (ip netns, veth, tap addresses), procps, a C compiler for bench references,
# python3 (the UDP peer inside network namespaces: tests and the demo). The Debian kernel the test VMs
# boot is not installed: @vnic/testvm apt-get downloads it into .vnic-tmp/testvm/.
DEBIAN_PACKAGES=(iproute2 procps iputils-ping gcc libc6-dev python3
  dpdk-dev librte-net-vhost23 librte-net-virtio23 librte-net-tap23 librte-mempool-ring23 # DPDK testpmd: vhost-user backend, virtio_user frontend, tap PMD (bench reference)
  openvswitch-switch-dpdk # OVS-DPDK: the vhost-user switch peer (dpdkvhostuser / dpdkvhostuserclient ports)
  qemu-system-x86 busybox-static xz-utils # @vnic/testvm: QEMU TCG test VMs (kernel vhost_net), initramfs, vmlinux
  user-mode-linux ethtool) # a real Linux virtio_net driver on vnic serve's control queue (virtio_uml), and the guest's ethtool -C

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "vnic setup: Debian packages missing (${missing[*]}) and not running as root: run as root or install them" >&2
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
fi

log "pnpm install"
CI=${CI:-} pnpm install --frozen-lockfile --reporter=silent
