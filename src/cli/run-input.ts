/**
 * What `run` and `schedule create` share: parsing run flags (one ConfigError
 * for every problem) and building the workflow input and start options.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, defaultOutputDir, flagOptions, resolveConfig, toRunOptions, type Config } from '../config';
import { planKey } from '../domain/regression';
import { loadKubeConfig } from '../kube/client';
import { SA } from '../shared';
import type { BenchmarkInput } from '../workflows/benchmark';

/** Parse `run` flags, collecting unknown flags and bad values into one ConfigError. */
export function parseRunArgs(
  argv: string[],
  env: Record<string, string | undefined>,
  extra: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {},
): { config: Config; values: Record<string, unknown>; contexts: string[] } {
  const options = { ...extra, ...flagOptions(), clusters: { type: 'string' as const }, config: { type: 'string' as const }, wait: { type: 'boolean' as const }, id: { type: 'string' as const }, 'ui-url': { type: 'string' as const }, help: { type: 'boolean' as const, short: 'h' } };
  const { values, tokens, positionals } = parseArgs({ args: argv, options, strict: false, tokens: true, allowPositionals: true });
  const problems: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && !(t.name in options)) problems.push(`unknown flag ${t.rawName}`);
    else if (t.kind === 'option' && (options as Record<string, { type: string }>)[t.name].type === 'string' && t.value === undefined) problems.push(`${t.rawName} needs a value`);
  }
  const contexts = (tokens ?? []).filter((t) => t.kind === 'option' && t.name === 'context' && t.value).map((t) => (t as { value: string }).value);
  if (new Set(contexts).size !== contexts.length) problems.push('--context: each cluster once');
  if (values.clusters !== undefined && values.clusters !== 'parallel' && values.clusters !== 'sequential') problems.push(`--clusters="${values.clusters}": must be parallel or sequential`);
  if (positionals.length) problems.push(`unexpected argument${positionals.length > 1 ? 's' : ''}: ${positionals.join(' ')}`);
  let file: Record<string, unknown> | undefined;
  if (typeof values.config === 'string') {
    try {
      file = JSON.parse(readFileSync(values.config, 'utf8'));
      if (!file || typeof file !== 'object' || Array.isArray(file)) throw new Error('not a JSON object');
    } catch (err) {
      problems.push(`--config ${values.config}: ${(err as Error).message}`);
      file = undefined;
    }
  }
  let config: Config | undefined;
  try {
    config = resolveConfig({ flags: values, env, file });
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length) throw new ConfigError(problems);
  return { config: config!, values, contexts };
}


/** The kube context name, read from the kubeconfig file only (no cluster call). */
export function resolveContextName(config: Config): string {
  try {
    return loadKubeConfig({ kubeconfigPath: config.kubeconfig, context: config.context }).getCurrentContext();
  } catch (err) {
    throw new ConfigError([`kubeconfig: ${(err as Error).message}`]);
  }
}

/** Workflow input + start options of one benchmarkRun. `dirSuffix` (e.g. "{datetime}") dates scheduled runs. */
export function runStart(config: Config, contextName: string, searchAttributes: boolean, dirSuffix?: string) {
  const options = toRunOptions({ ...config, context: contextName });
  const base = path.resolve(config.dir ?? defaultOutputDir(contextName));
  const outputDir = dirSuffix ? path.join(base, dirSuffix) : base;
  const input: BenchmarkInput = { options, outputDir, contextName, searchAttributes };
  const start = {
    taskQueue: config.taskQueue,
    args: [input] as [BenchmarkInput],
    ...(searchAttributes
      ? { typedSearchAttributes: [{ key: SA.cluster, value: contextName }, { key: SA.plan, value: planKey(options) }, { key: SA.phase, value: 'starting' }, { key: SA.trusted, value: true }, { key: SA.regression, value: false }] }
      : {}),
    staticSummary: `netbench on ${contextName}: steps ${options.svcScaleSteps.join('/')} × ${options.svcEndpoints} ep, ${options.rounds} round(s)`,
    staticDetails: [
      `**Cluster** ${contextName}`,
      `**Plan** iperf3 ${options.iperfDuration}s, fortio/netperf ${options.fortioDuration}s, ROUNDS=${options.rounds}, ROUND_SLEEP=${options.roundSleep}s`,
      `**Scale steps** ${options.svcScaleSteps.join(', ')} Services × ${options.svcEndpoints} endpoints (${options.endpointsMode})`,
      `**Output** ${outputDir}`,
      options.skip.length ? `**Skipped** ${options.skip.join(', ')}` : '',
    ].filter(Boolean).join('\n\n'),
  };
  return { options, outputDir, input, start };
}
