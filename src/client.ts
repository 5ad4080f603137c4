/**
 * The `netbench` CLI: the dispatcher. Each command is one row of COMMANDS
 * (its name and arguments, a one-line summary for the top-level help, its
 * handler in src/cli/ or src/worker.ts); the help is made from the table.
 * `netbench <command> --help` prints that command's help and does nothing else.
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

export interface Command {
  name: string;
  /** its arguments as the top-level help shows them after the name ("ID", "RUN...") */
  args?: string;
  /** one line in the top-level help */
  summary: string;
  /** runs the command on the arguments after its name; the exit status */
  run: (argv: string[]) => Promise<number>;
}

/** Every command, in the order the help lists them. Heavy modules load only for the command that needs them. */
export const COMMANDS: readonly Command[] = [
  { name: 'run', summary: 'start a benchmark run on a cluster (netbench run --help for every parameter)', run: runMain },
  { name: 'status', args: 'ID', summary: "show a run's progress once", run: statusMain },
  { name: 'watch', args: 'ID', summary: "follow a run's progress until it ends", run: watchMain },
  { name: 'approve', args: 'ID', summary: 'approve the Cilium LB-map capacity fix a run is waiting for', run: (argv) => decideMain(true, argv) },
  { name: 'decline', args: 'ID', summary: 'decline it (large-scale results are then marked untrustworthy)', run: (argv) => decideMain(false, argv) },
  { name: 'cancel', args: 'ID', summary: 'cancel a run (cleanup and Hubble restore still run)', run: cancelMain },
  { name: 'resume', args: 'ID', summary: 'continue a failed, timed-out, terminated or cancelled run: adopt what it completed, measure the rest', run: resumeMain },
  { name: 'result', args: 'ID', summary: 'write benchmark-summary.json, report.md and report.html of a finished run, print the summary', run: resultMain },
  {
    name: 'list', summary: 'runs from Temporal visibility, filtered by cluster, type, status, date (netbench list --help)',
    run: async (argv) => {
      const { listMain } = await import('./cli/list');
      const { values } = parseArgs({ args: argv, options: { ...COMMON_FLAGS }, strict: false });
      return listMain(argv, () => connect(target(values)));
    },
  },
  {
    name: 'schedule', args: '...', summary: 'nightly runs on a Temporal Schedule: create|list|describe|pause|unpause|trigger|delete',
    run: async (argv) => (await import('./cli/schedule')).scheduleMain(argv, (values) => connect(target(values))),
  },
  {
    name: 'compare', args: 'RUN...', summary: 'side-by-side "At a glance" table (Winner column) and overlaid scale curves of netbench runs, reference results or summaries, mixed',
    run: async (argv) => (await import('./cli/compare')).compareMain(argv),
  },
  { name: 'export', args: 'RUN', summary: 'every measurement of a run as one row: --format csv|json (netbench export --help)', run: async (argv) => (await import('./cli/export')).exportMain(argv) },
  { name: 'worker', summary: 'run a netbench worker for one cluster (netbench worker --help)', run: async (argv) => (await import('./worker')).workerMain(argv) },
  { name: 'setup-namespace', summary: "register netbench's search attributes on a Temporal namespace (idempotent)", run: async (argv) => (await import('./cli/namespace')).setupNamespaceMain(argv) },
  { name: 'lab', args: 'up|down|status|shape', summary: 'the local lab: a real control plane, kwok nodes and a kube-proxy datapath on this machine', run: cmdLab },
  { name: 'dev-server', args: 'start|stop|status', summary: "a local Temporal dev server with the Web UI (:8233) and netbench's search attributes", run: async (argv) => (await import('./cli/devserver')).devServerMain(argv) },
];

/** The top-level help, from COMMANDS. */
export function mainHelp(): string {
  const left = (c: Command) => (c.args ? `${c.name} ${c.args}` : c.name);
  const width = 19;
  return `netbench — Kubernetes network benchmarks (kube-proxy vs Cilium) as durable Temporal workflows

Usage: netbench <command> [options]

Commands:
${COMMANDS.map((c) => `  ${left(c).length < width ? left(c).padEnd(width) : `${left(c)}  `}${c.summary}`).join('\n')}

Temporal options (every command): --address, --namespace, --ui-url, --tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name, --api-key
(see netbench setup-namespace --help for each flag and its environment variable)
`;
}

/** The lab is not part of src/: bin/netbench sends `netbench lab ...` to lab/cli.ts. */
async function cmdLab(): Promise<number> {
  process.stderr.write('netbench lab: run it through bin/netbench (bin/netbench lab up|down|status|shape), or: npx tsx lab/cli.ts ...\n');
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(mainHelp());
    return cmd === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === cmd);
  if (!command) {
    process.stderr.write(`netbench: unknown command "${cmd}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    return await command.run(rest);
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
