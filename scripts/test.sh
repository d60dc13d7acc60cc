#!/usr/bin/env bash
# The whole vnic test suite, set-up included: `bash scripts/test.sh [vitest args]`.
# Needs root (taps, network namespaces). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
printf '\033[1m[test]\033[0m typecheck\n'
pnpm exec tsc -p tsconfig.json --noEmit
printf '\033[1m[test]\033[0m vitest\n'
mkdir -p .vnic-tmp
rc=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.vnic-tmp/vitest.json "$@" || rc=$?
# One plain closing line: "vitest: N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync(".vnic-tmp/vitest.json", "utf8"));
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit "$rc"
