# Source this file: puts the project's cached Node and built binaries first
# on PATH and exports NETBENCH_CACHE and NETBENCH_BIN_* for tests and the lab.
_nb_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$_nb_here/versions.env"
export NETBENCH_CACHE="${NETBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netbench}"
for _nb_d in \
  "$NETBENCH_CACHE/node-$NODE_VERSION/bin" \
  "$NETBENCH_CACHE/temporal-$TEMPORAL_CLI_VERSION/bin" \
  "$NETBENCH_CACHE/fortio-$FORTIO_VERSION/bin" \
  "$NETBENCH_CACHE/kubernetes-$KUBERNETES_VERSION/bin" \
  "$NETBENCH_CACHE/etcd-$ETCD_VERSION/bin" \
  "$NETBENCH_CACHE/kwok-$KWOK_VERSION/bin" \
  "$NETBENCH_CACHE/metrics-server-$METRICS_SERVER_VERSION/bin" \
  "$NETBENCH_CACHE/cilium-$CILIUM_VERSION/bin"; do
  [ -d "$_nb_d" ] && case ":$PATH:" in *":$_nb_d:"*) ;; *) PATH="$_nb_d:$PATH" ;; esac
done
export PATH
unset _nb_d _nb_here
