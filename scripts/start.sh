#!/usr/bin/env bash
# npm start: the whole benchmark, end to end, on this machine.
#  1. install and build what is missing (cached after the first time)
#  2. a Temporal dev server with the Web UI on :8233 (unless TEMPORAL_ADDRESS is set)
#  3. the local lab cluster (unless KUBE_CONTEXT or --context names a cluster)
#  4. a netbench worker
#  5. `netbench run --wait` with short durations, then the summary and the report paths
# Any `netbench run` flag can be added: npm start -- --svc-scale-steps 1000,5000
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf '\033[1m[netbench]\033[0m %s\n' "$*" >&2; }

say "1/5 provisioning (cached after the first run)"
bash scripts/setup.sh all
# shellcheck source=env.sh
source scripts/env.sh
nb="$root/bin/netbench"
state="${NETBENCH_STATE:-$NETBENCH_CACHE/state}"
mkdir -p "$state"

if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  say "2/5 Temporal dev server"
  "$nb" dev-server start
  export TEMPORAL_ADDRESS=127.0.0.1:7233
else
  say "2/5 using Temporal at $TEMPORAL_ADDRESS"
fi

context_given=""
for a in "$@"; do [ "$a" = "--context" ] && context_given=1; done
if [ -z "${KUBE_CONTEXT:-}" ] && [ -z "$context_given" ]; then
  say "3/5 local lab cluster (real control plane, kwok nodes, kube-proxy datapath)"
  "$nb" lab up
  KUBECONFIG="$("$nb" lab kubeconfig)"
  export KUBECONFIG
else
  say "3/5 using kube context ${KUBE_CONTEXT:-from --context}"
fi

say "4/5 netbench worker (log: $state/worker.log)"
"$nb" worker >"$state/worker.log" 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT

say "5/5 benchmark run (short durations; every parameter can be overridden)"
export IPERF_DURATION="${IPERF_DURATION:-3}" FORTIO_DURATION="${FORTIO_DURATION:-3}" ROUNDS="${ROUNDS:-1}" ROUND_SLEEP="${ROUND_SLEEP:-1}"
export SVC_SCALE_STEPS="${SVC_SCALE_STEPS:-1000,2000,5000}" METRICS_SETTLE_SECS="${METRICS_SETTLE_SECS:-5}" METRICS_SAMPLES="${METRICS_SAMPLES:-2}"
export SETTLE_FACTOR="${SETTLE_FACTOR:-0.2}" KUBECTL_TIMEOUT="${KUBECTL_TIMEOUT:-60}" AUTO_FIX_LB_MAP="${AUTO_FIX_LB_MAP:-true}"
"$nb" run --wait "$@"
say "done. Web UI: http://localhost:8233 — stop everything with: bin/netbench lab down; bin/netbench dev-server stop"
