/**
 * `netbench schedule create|list|describe|pause|unpause|trigger|delete`:
 * nightly (or any cron/calendar) runs as a Temporal Schedule that starts
 * benchmarkRun with the given run options. Overlap policy SKIP (a run still
 * going when the next is due is not doubled), a catch-up window, a time
 * zone; each scheduled run writes under <dir>/<start time>.
 */
import { parseArgs } from 'node:util';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ConfigError } from '../config';
import { renderTextTable } from '../report/table';
import { missingSearchAttributes, temporalFlagOptions } from './connect';
import { parseRunArgs, resolveContextName, runStart } from './run-input';
import { WORKFLOW } from '../shared';

export const SCHEDULE_HELP = `netbench schedule: benchmark runs on a Temporal Schedule

  netbench schedule create --cron "0 2 * * *" [--tz Europe/Berlin] [--id ID] [--catchup-window 1h] [--paused] [run options...]
  netbench schedule list
  netbench schedule describe ID
  netbench schedule pause ID [--note TEXT]
  netbench schedule unpause ID [--note TEXT]
  netbench schedule trigger ID          start one run now
  netbench schedule delete ID

create takes every \`netbench run\` option (netbench run --help) plus:
  --cron EXPR            cron expression (repeatable), e.g. "0 2 * * *" = 02:00 every day
  --tz ZONE              IANA time zone of the spec (default UTC)
  --catchup-window DUR   how late a missed run may still start after an outage (default 1h)
  --paused               create it paused
  --id ID                schedule id (default netbench-nightly-<context>)
Each run writes under <--dir or ./benchmark-results-<context>>/<UTC start time>; the overlap policy is SKIP.
`;

const SCHED_FLAGS = {
  ...temporalFlagOptions,
  cron: { type: 'string' as const, multiple: true },
  tz: { type: 'string' as const },
  'catchup-window': { type: 'string' as const },
  paused: { type: 'boolean' as const },
  note: { type: 'string' as const },
};

const DURATION = /^(\d+)(s|m|h|d)$/;

export async function scheduleMain(argv: string[], connectClient: (values: Record<string, unknown>) => Promise<Client>): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(SCHEDULE_HELP);
    return sub ? 0 : 2;
  }
  if (sub === 'create') return create(rest, connectClient);
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { ...temporalFlagOptions, note: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(SCHEDULE_HELP);
    return 0;
  }
  const client = await connectClient(values);
  if (sub === 'list') {
    const rows: string[][] = [];
    for await (const s of client.schedule.list()) {
      rows.push([s.scheduleId, describeSpec(s.spec), s.state.paused ? 'paused' : 'active', s.info.nextActionTimes[0]?.toISOString().slice(0, 16).replace('T', ' ') ?? '', s.info.recentActions.at(-1)?.takenAt.toISOString().slice(0, 16).replace('T', ' ') ?? '']);
    }
    process.stdout.write(rows.length ? renderTextTable(['schedule', 'spec', 'state', 'next run (UTC)', 'last run (UTC)'], rows) + '\n' : 'no schedules\n');
    return 0;
  }
  const id = positionals[0];
  if (!id || positionals.length > 1) throw Object.assign(new Error(`usage: netbench schedule ${sub} ID`), { usage: true });
  const h = client.schedule.getHandle(id);
  try {
    switch (sub) {
      case 'describe': {
        const d = await h.describe();
        const action = d.action as { workflowType?: string; args?: unknown[]; taskQueue?: string };
        const input = (action.args?.[0] ?? {}) as { contextName?: string; outputDir?: string };
        process.stdout.write(
          [
            `schedule ${d.scheduleId}: ${d.state.paused ? `PAUSED${d.state.note ? ` (${d.state.note})` : ''}` : 'active'}`,
            `  spec:      ${describeSpec(d.spec)}${d.spec.timezone ? ` (${d.spec.timezone})` : ' (UTC)'}`,
            `  runs:      ${action.workflowType} on ${input.contextName ?? '?'} -> ${input.outputDir ?? '?'} (task queue ${action.taskQueue})`,
            `  policies:  overlap ${d.policies.overlap}, catch-up window ${d.policies.catchupWindow / 1000}s`,
            `  next:      ${d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()).join(', ') || '-'}`,
            `  recent:    ${d.info.recentActions.slice(-5).map((a) => `${a.takenAt.toISOString()} ${a.action.workflow.workflowId}`).join('\n             ') || '-'}`,
            `  running:   ${d.info.runningActions.map((a) => a.workflow.workflowId).join(', ') || '-'}`,
            '',
          ].join('\n'),
        );
        return 0;
      }
      case 'pause':
        await h.pause(values.note ?? 'paused with netbench');
        process.stdout.write(`paused ${id}\n`);
        return 0;
      case 'unpause':
        await h.unpause(values.note ?? 'unpaused with netbench');
        process.stdout.write(`unpaused ${id}\n`);
        return 0;
      case 'trigger':
        await h.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
        process.stdout.write(`triggered ${id}: a run starts now (netbench list --status Running)\n`);
        return 0;
      case 'delete':
        await h.delete();
        process.stdout.write(`deleted ${id}\n`);
        return 0;
      default:
        throw Object.assign(new Error(`unknown schedule command "${sub}"\n\n${SCHEDULE_HELP}`), { usage: true });
    }
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw Object.assign(new Error(`no schedule "${id}"`), { usage: true });
    throw err;
  }
}

type Range = { start: number | string; end?: number | string; step?: number };
/** A calendar spec written back in cron's field order: minute hour day-of-month month day-of-week. */
function describeSpec(s: unknown): string {
  const spec = s as { calendars?: Record<string, unknown>[]; intervals?: { every: number | string }[] } | undefined;
  const field = (rs: unknown, all: [number | string, number | string]) => {
    const ranges = (rs as Range[] | undefined) ?? [];
    if (!ranges.length) return '*';
    return ranges
      .map((r) => {
        const end = r.end ?? r.start;
        if (r.start === all[0] && end === all[1]) return r.step && r.step > 1 ? `*/${r.step}` : '*';
        return `${r.start}${end !== r.start ? `-${end}` : ''}${r.step && r.step > 1 ? `/${r.step}` : ''}`;
      })
      .join(',');
  };
  const cals = (spec?.calendars ?? []).map((c) =>
    [field(c.minute, [0, 59]), field(c.hour, [0, 23]), field(c.dayOfMonth, [1, 31]), field(c.month, ['JANUARY', 'DECEMBER']), field(c.dayOfWeek, ['SUNDAY', 'SATURDAY'])].join(' '),
  );
  const ivs = (spec?.intervals ?? []).map((i) => `every ${i.every}`);
  return [...cals, ...ivs].join(' | ') || '?';
}

async function create(argv: string[], connectClient: (values: Record<string, unknown>) => Promise<Client>): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SCHEDULE_HELP);
    return 0;
  }
  const problems: string[] = [];
  let parsed: ReturnType<typeof parseRunArgs> | undefined;
  try {
    parsed = parseRunArgs(argv, process.env, SCHED_FLAGS);
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  const v = parsed?.values ?? parseArgs({ args: argv, options: SCHED_FLAGS, strict: false }).values;
  const crons = (v.cron as string[] | undefined) ?? [];
  if (!crons.length) problems.push('--cron is required (e.g. --cron "0 2 * * *")');
  for (const c of crons) if (c.trim().split(/\s+/).length < 5) problems.push(`--cron "${c}": needs 5 fields (minute hour day-of-month month day-of-week)`);
  const tz = v.tz as string | undefined;
  if (tz) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      problems.push(`--tz "${tz}": not an IANA time zone (e.g. Europe/Berlin)`);
    }
  }
  const cw = (v['catchup-window'] as string | undefined) ?? '1h';
  if (!DURATION.test(cw)) problems.push(`--catchup-window "${cw}": use a duration like 30m, 1h, 1d`);
  if ((parsed?.contexts.length ?? 0) > 1) problems.push('--context: a schedule runs one cluster (create one schedule per cluster)');
  if (problems.length) throw new ConfigError(problems);
  const { config, values } = parsed!;
  const contextName = resolveContextName(config);
  const client = await connectClient(values);
  const sa = (await missingSearchAttributes(client, config.temporalNamespace)).length === 0;
  const { start, outputDir } = runStart(config, contextName, sa, '{datetime}');
  const scheduleId = (values.id as string) ?? `netbench-nightly-${contextName.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
  await client.schedule.create({
    scheduleId,
    spec: { cronExpressions: crons, ...(tz ? { timezone: tz } : {}) },
    action: { type: 'startWorkflow', workflowType: WORKFLOW.benchmarkRun, workflowId: `${scheduleId}-run`, ...start },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: cw },
    state: { paused: !!values.paused, note: `netbench on ${contextName}` },
  });
  process.stdout.write(`created schedule ${scheduleId}: ${crons.join(' | ')}${tz ? ` (${tz})` : ' (UTC)'}, overlap SKIP, catch-up ${cw}\n  each run writes under ${outputDir}\n  see it: netbench schedule describe ${scheduleId}\n`);
  return 0;
}
