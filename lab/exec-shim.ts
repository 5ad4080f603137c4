/**
 * `--network pods`: how `kubectl exec <pod> -- <argv>` runs in that pod's
 * network namespace.
 *
 * What kwok gives (sigs.k8s.io/kwok v0.8.0, pkg/kwok/server/debugging_exec.go
 * and pkg/utils/exec): kwok-controller serves the exec itself and runs
 * `exec.CommandContext(ctx, argv[0], argv[1:]...)` as its own child, with the
 * matching rule's `workDir`, `envs` (appended to kwok-controller's own
 * environment) and user. The rule is the pod's namespaced `Exec` object
 * (matched by pod name) if there is one, else the first matching
 * `ClusterExec`. There is no command wrapper, and argv[0] is resolved by Go's
 * LookPath with kwok-controller's PATH, not the rule's: a per-pod PATH cannot
 * select a program. The only per-pod channel is the rule's environment.
 *
 * So:
 *   - kwok-controller runs with PATH = <shim dir>:<the lab's PATH>; the shim
 *     dir holds, for every program name on the lab's PATH, a symlink to one
 *     sh script (below). Whatever argv[0] names resolves to the script.
 *   - the lab's pod-network controller gives each pod an `Exec` object
 *     (kwokctl `enableCRDs: [Exec]`) whose env NETBENCH_POD_NETNS names the
 *     pod's namespace (its node's for a hostNetwork pod);
 *   - the script waits until that namespace is ready, then
 *     `exec ip netns exec <ns> <name> "$@"` with the lab's PATH. The catch-all
 *     ClusterExec sets NETBENCH_LAB_NETWORK=pods: an exec into a pod that has
 *     no Exec object yet fails with a message instead of running in the lab
 *     namespace.
 * An argv[0] given as an absolute path (`/usr/sbin/ip`) bypasses the shim and
 * runs in the lab namespace.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, constants, accessSync } from 'node:fs';
import path from 'node:path';
import type { LabPaths } from './config';
import { writeFileIfChanged } from './files';
import { readKwokctlDocs, setKwokControllerPath, writeKwokctlDocs } from './kwokctl';
import { netPaths } from './pod-network';
import { cniPodStages } from './datapath/kwok-stages';

export const POD_NETNS_ENV = 'NETBENCH_POD_NETNS';
export const NETWORK_ENV = 'NETBENCH_LAB_NETWORK';
/** A Cilium lab: the cgroup of the pod's node (its agent's socket LB), which the exec joins: a path relative to the cgroup2 root. */
export const POD_CGROUP_ENV = 'NETBENCH_POD_CGROUP';
const SCRIPT = '.netbench-exec-shim';

const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The script every shim symlink points at. */
export function execShimScript(o: { originalPath: string; readyDir: string; pendingDir: string; waitSec: number }): string {
  const tries = o.waitSec * 10;
  return `#!/bin/sh
# netbench lab (--network pods): kubectl exec runs argv in the pod's network
# namespace (written by lab/exec-shim.ts).
name=\${0##*/}
PATH=${shq(o.originalPath)}
export PATH
ns=\$${POD_NETNS_ENV}
if [ -n "\$ns" ]; then
  # As an exec waits for its container to start: wait for the pod's namespace.
  n=0
  while [ ! -e ${shq(o.readyDir)}/"\$ns" ] && [ \$n -lt ${tries} ]; do sleep 0.1; n=\$((n + 1)); done
  if [ ! -e ${shq(o.readyDir)}/"\$ns" ]; then
    echo "netbench lab: the network namespace of this pod (\$ns) is not ready after ${o.waitSec} s" >&2
    exit 126
  fi
  # Pods created with this one (a server it is about to dial) get their namespace first.
  n=0
  while [ -n "\$(ls -A ${shq(o.pendingDir)} 2>/dev/null)" ] && [ \$n -lt 100 ]; do sleep 0.1; n=\$((n + 1)); done
  # A Cilium lab: join the node's cgroup (a path under the cgroup2 root). kwok-controller's mount
  # namespace (made by \`ip netns exec\`) has a fresh /sys without the cgroup tree: mount cgroup2
  # there once (in that namespace only: it goes with kwok-controller).
  if [ -n "\$${POD_CGROUP_ENV}" ]; then
    [ -e /sys/fs/cgroup/cgroup.procs ] || mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
    if ! echo \$\$ > "/sys/fs/cgroup/\$${POD_CGROUP_ENV}/cgroup.procs"; then
      echo "netbench lab: cannot join this pod's node cgroup (\$${POD_CGROUP_ENV}) in kwok-controller's mount namespace" >&2
      exit 126
    fi
  fi
  exec ip netns exec "\$ns" "\$name" "\$@"
fi
if [ "\$${NETWORK_ENV}" = pods ]; then
  echo "netbench lab: no network namespace is known for this pod yet (the lab's pod-network controller has not registered it)" >&2
  exit 126
fi
exec "\$name" "\$@"
`;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Build the shim dir for `originalPath` (idempotent): the script and one
 * symlink per program name found on that PATH. Returns the dir.
 */
export function writeExecShim(p: LabPaths, originalPath: string, waitSec = 30): string {
  const np = netPaths(p);
  const dir = np.shim;
  mkdirSync(dir, { recursive: true });
  mkdirSync(np.ready, { recursive: true });
  mkdirSync(np.pending, { recursive: true });
  const script = path.join(dir, SCRIPT);
  writeFileIfChanged(script, execShimScript({ originalPath, readyDir: np.ready, pendingDir: np.pending, waitSec }), 0o755);
  const names = new Set<string>();
  for (const d of originalPath.split(':')) {
    if (!d || path.resolve(d) === path.resolve(dir) || !existsSync(d)) continue;
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      continue;
    }
    for (const e of entries) if (!e.startsWith('.') && isExecutableFile(path.join(d, e))) names.add(e);
  }
  const have = new Set(readdirSync(dir).filter((e) => e !== SCRIPT));
  for (const name of names) {
    if (have.has(name)) continue;
    const link = path.join(dir, name);
    const tmp = `${link}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(SCRIPT, tmp);
    renameSync(tmp, link);
  }
  for (const stale of have) if (!names.has(stale) && lstatSync(path.join(dir, stale)).isSymbolicLink()) rmSync(path.join(dir, stale));
  return dir;
}

/**
 * The kwokctl config for `--network pods`: Exec, PortForward and Logs objects from
 * the apiserver, kwok-controller's PATH led by the shim, the catch-all exec
 * rule marked, no ClusterPortForward to 127.0.0.1, and pod stages that
 * report the IP the lab gave a pod.
 */
export function patchKwokctlForPods(file: string, p: LabPaths, originalPath: string): void {
  const { docs, exec, kwokctl } = readKwokctlDocs(file);
  // Per-pod rules, made by lab/pod-network-controller.ts as pods come and go.
  kwokctl.options.enableCRDs = ['Exec', 'PortForward', 'Logs'];
  setKwokControllerPath(kwokctl, `${netPaths(p).shim}:${originalPath}`);
  for (const e of exec.spec.execs as { local?: { envs?: { name: string; value: string }[] } }[]) {
    if (!e.local) continue;
    e.local.envs = [...(e.local.envs ?? []).filter((v) => v.name !== NETWORK_ENV), { name: NETWORK_ENV, value: 'pods' }];
  }
  // port-forward goes to the pod's own IP (its PortForward object), not to a stand-in on 127.0.0.1;
  // kwok reports the IP the controller (or Cilium's CNI) gave a pod (lab/datapath/kwok-stages.ts).
  const kept = docs.filter((d) => d.kind !== 'ClusterPortForward' && d.kind !== 'Stage');
  writeKwokctlDocs(file, [...kept, ...cniPodStages()]);
}
