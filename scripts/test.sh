#!/usr/bin/env bash
# The whole vnic test suite, set-up included: `bash scripts/test.sh [vitest args]`.
# Needs root (taps, network namespaces). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
printf '\033[1m[test]\033[0m typecheck\n'
pnpm exec tsc -p tsconfig.json --noEmit
printf '\033[1m[test]\033[0m vitest\n'
exec pnpm exec vitest run "$@"
