#!/usr/bin/env bash
# Runs a command (or, with --vitest, vitest test files) inside a throw-away QEMU test VM booting the
# Debian kernel, with this host's / read-only and the project directory read-write; exits with the
# command's exit code. `bash scripts/vm-run.sh --help` for the options; packages/testvm/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec ./node_modules/.bin/tsx packages/testvm/src/main.ts "$@"
