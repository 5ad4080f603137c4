#!/usr/bin/env bash
# The whole test suite: provisions what is missing (cached), type-checks,
# lints, then runs every test file against real components (Temporal dev server,
# kube-apiserver + etcd, the lab, the real tools on loopback).
#
#   scripts/test.sh [test files...]     (default: every test/**/*.test.ts)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh all browser
# shellcheck source=env.sh
source scripts/env.sh
echo "[test] node $(node --version); typecheck"
npx --no-install tsc --noEmit -p .
echo "[test] lint (eslint.config.js: floating promises, import boundaries)"
npx --no-install eslint
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
echo "[test] ${#files[@]} test files"
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
