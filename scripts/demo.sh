#!/usr/bin/env bash
# The vnic demo, set-up included: `bash scripts/demo.sh [vnic demo options]`, e.g. --pings 10 --burst 20000.
# Needs root (a tap and a network namespace). Everything it creates is removed at the end, on errors and on Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec pnpm --silent vnic demo "$@"
