#!/usr/bin/env bash
# `npm run bench -- NAME [flags]`: one benchmark of bench/ (they print figures;
# they are not tests), with the project environment. `npm run bench` lists them.
#
#   npm run bench -- chaos --seed 42        (= npx tsx bench/chaos.ts --seed 42)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=env.sh
source scripts/env.sh
if [ $# -eq 0 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
  echo "usage: npm run bench -- NAME [flags]   (NAME --help for its flags; see bench/README.md)"
  echo "benchmarks:"
  for f in bench/*.ts; do
    n="$(basename "$f" .ts)"
    case "$n" in fault-proxy|rtt-proxy) ;; *) echo "  $n" ;; esac
  done
  exit $([ $# -eq 0 ] && echo 2 || echo 0)
fi
name="$1"; shift
if [ ! -f "bench/$name.ts" ] || [ "$name" = fault-proxy ] || [ "$name" = rtt-proxy ]; then
  echo "no benchmark \"$name\" (npm run bench lists them)" >&2
  exit 2
fi
exec npx --no-install tsx "bench/$name.ts" "$@"
