/**
 * The `netbench` CLI.
 *
 *   netbench run [options] [--wait]     start a benchmark run (prints its id and Web UI link)
 *   netbench status|watch ID            progress of a run
 *   netbench approve|decline ID         answer the Cilium LB-map fix
 *   netbench cancel ID                  cancel (cleanup still runs)
 *   netbench result ID [--dir DIR]      write summary and report of a finished run
 *   netbench compare RUN...             runs side by side (netbench or reference results)
 *   netbench export RUN --format F      every measurement as CSV or JSON rows
 *   netbench worker [options]           run a worker
 *   netbench lab up|down|status|shape   the local lab cluster
 *
 * Bad input exits with status 2 and one message naming every bad field,
 * before anything talks to the cluster or to Temporal.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from './config';
import { connect } from './cli/connect';
import { cancelMain, decideMain, resultMain, resumeMain, statusMain, watchMain } from './cli/handle';
import { runMain } from './cli/run';
import { COMMON_FLAGS, target, UsageError } from './cli/usage';
import { DEFAULT_TASK_QUEUE } from './shared';

const MAIN_HELP = `netbench — Kubernetes network benchmarks (kube-proxy vs Cilium) as durable Temporal workflows

Usage: netbench <command> [options]

Commands:
  run                start a benchmark run on a cluster (netbench run --help for every parameter)
  status ID          show a run's progress once
  watch ID           follow a run's progress until it ends
  approve ID         approve the Cilium LB-map capacity fix a run is waiting for
  decline ID         decline it (large-scale results are then marked untrustworthy)
  cancel ID          cancel a run (cleanup and Hubble restore still run)
  resume ID          continue a failed, timed-out, terminated or cancelled run: adopt what it completed, measure the rest
  result ID          write benchmark-summary.json, report.md and report.html of a finished run, print the summary
  list               runs from Temporal visibility, filtered by cluster, type, status, date (netbench list --help)
  schedule ...       nightly runs on a Temporal Schedule: create|list|describe|pause|unpause|trigger|delete
  compare RUN...     side-by-side "At a glance" table (Winner column), overlaid scale curves and their crossings, of netbench
                     run directories, the reference script's result directories or benchmark-summary.json files, mixed
  export RUN         every measurement of a run as one row: --format csv|json (netbench export --help)
  worker             run a netbench worker for one cluster (netbench worker --help)
  setup-namespace    register netbench's search attributes on a Temporal namespace (idempotent)
  lab up|down|status|shape  the local lab: a real control plane, kwok nodes and a kube-proxy datapath on this machine
  dev-server start|stop|status  a local Temporal dev server with the Web UI (:8233) and netbench's search attributes

Temporal options (every command): --address, --namespace, --ui-url, --tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name, --api-key
(see netbench setup-namespace --help for each flag and its environment variable)
`;

/** The lab is not part of src/: bin/netbench sends `netbench lab ...` to lab/cli.ts. */
function cmdLab(): number {
  process.stderr.write('netbench lab: run it through bin/netbench (bin/netbench lab up|down|status|shape), or: npx tsx lab/cli.ts ...\n');
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run':
        return await runMain(rest);
      case 'status':
        return await statusMain(rest);
      case 'watch':
        return await watchMain(rest);
      case 'approve':
        return await decideMain(true, rest);
      case 'decline':
        return await decideMain(false, rest);
      case 'cancel':
        return await cancelMain(rest);
      case 'resume':
        return await resumeMain(rest);
      case 'result':
        return await resultMain(rest);
      case 'worker': {
        const { workerMain } = await import('./worker');
        return await workerMain(rest);
      }
      case 'lab':
        return cmdLab();
      case 'setup-namespace': {
        const { setupNamespaceMain } = await import('./cli/namespace');
        return await setupNamespaceMain(rest);
      }
      case 'list': {
        const { listMain } = await import('./cli/list');
        const { values } = parseArgs({ args: rest, options: { ...COMMON_FLAGS }, strict: false });
        return await listMain(rest, () => connect(target(values)));
      }
      case 'schedule': {
        const { scheduleMain } = await import('./cli/schedule');
        return await scheduleMain(rest, (values) => connect(target(values)));
      }
      case 'compare': {
        const { compareMain } = await import('./cli/compare');
        return await compareMain(rest);
      }
      case 'export': {
        const { exportMain } = await import('./cli/export');
        return await exportMain(rest);
      }
      case 'dev-server': {
        const { devServerMain } = await import('./cli/devserver');
        return await devServerMain(rest);
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`netbench: unknown command "${cmd}"\n\n${MAIN_HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError || (err as { usage?: boolean }).usage || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`netbench ${cmd}: ${(err as Error).message}\n${err instanceof ConfigError ? `\nSee: netbench ${cmd} --help\n` : ''}`);
      return 2;
    }
    process.stderr.write(`netbench ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}

export { DEFAULT_TASK_QUEUE };
