#!/usr/bin/env bash
# The whole vnic test suite, set-up included: `bash scripts/test.sh [vitest args]`.
# Needs root (taps, network namespaces). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
printf '\033[1m[test]\033[0m lint (eslint, prettier --check)\n'
pnpm --silent lint
printf '\033[1m[test]\033[0m typecheck\n'
pnpm exec tsc -p tsconfig.json --noEmit
printf '\033[1m[test]\033[0m build (tsc -b: every package to dist/)\n'
pnpm --silent build
printf '\033[1m[test]\033[0m vitest\n'
mkdir -p .vnic-tmp
rm -f .vnic-tmp/vitest-*.json
rc=0
if [ "$#" -gt 0 ]; then
  pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.vnic-tmp/vitest-1.json "$@" || rc=$?
else
  # DPDK testpmd busy-polls a whole core: its tests run on their own, after everything else.
  pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.vnic-tmp/vitest-1.json --exclude 'test/peers/vhost-user/**' --exclude 'test/peers/state/*.vhost-user.test.ts' --exclude 'test/pack/**' || rc=$?
  printf '\033[1m[test]\033[0m vitest: vhost-user peers (DPDK testpmd)\n'
  pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.vnic-tmp/vitest-2.json --fileParallelism=false test/peers/vhost-user test/peers/state/*.vhost-user.test.ts || rc=$?
  # The packages as a VMM gets them: packed tarballs installed into a fresh project, run with plain node.
  printf '\033[1m[test]\033[0m vitest: pack and install (test/pack, the built dist/)\n'
  pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.vnic-tmp/vitest-4.json test/pack || rc=$?
  # test/vm/** runs INSIDE a throw-away QEMU VM with the Debian kernel (kernel vhost_net): one boot
  # for all of them (@vnic/testvm, runVitestInVm); the report joins the closing line as vitest-3.json.
  printf '\033[1m[test]\033[0m vitest: in the test VM (test/vm, Debian kernel under QEMU TCG)\n'
  bash scripts/vm-run.sh --vitest --timeout 1200 --json-out .vnic-tmp/vitest-3.json test/vm || rc=$?
fi
# One plain closing line: "vitest: N passed, N failed, N skipped".
node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0;
  for (const n of fs.readdirSync(".vnic-tmp").filter((n) => /^vitest-\d+\.json$/.test(n))) {
    const r = JSON.parse(fs.readFileSync(".vnic-tmp/" + n, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
  }
  console.log(`vitest: ${p} passed, ${f} failed, ${s} skipped`);
' || true
exit "$rc"
