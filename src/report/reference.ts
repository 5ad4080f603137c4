/**
 * The reference script's results, read as netbench reads its own: a
 * `benchmark-summary.json` in either of the reference's two formats, turned
 * into the summary shape netbench writes (the current format), so every
 * renderer reads one shape.
 *
 *  - multi-step (the current script): `service_scale.steps` is an array of
 *    per-step entries (svc_count, keepalive_qps, short_conn_qps, ...).
 *  - single-step (the older script, docs/reference-compat.md §14): one step
 *    of 1,000 Services spelled as flat keys (`keepalive_1k_svc_qps`,
 *    `short_conn_1k_svc_qps`, their `_degradation_pct`, `iptables_rules` /
 *    `ipvs_rules`), NetworkPolicy without L7, resources with averages only.
 *
 * Also `context.yaml` (the cluster facts the summary copies), for a result
 * directory whose summary lacks them. Pure: the caller reads the files.
 */
import { SCALE_SCENARIOS } from '../domain/scenarios';

export type ReferenceFormat = 'multi-step' | 'single-step';

export interface ReferenceSummary {
  format: ReferenceFormat;
  /** the summary in the current format (the shape of buildSummary's output, without the netbench block) */
  summary: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** The six sections the reference always writes (possibly empty). */
const SECTIONS = ['cluster', 'throughput', 'rps', 'latency', 'service_scale', 'resources'] as const;

/** The Service count of the older script's single scale step (its keys say `1k`). */
export const SINGLE_STEP_SVC_COUNT = 1000;
const SINGLE_STEP_INFIX = '_1k_svc';

/** RPS rows of a scale step (keepalive, short connection): summary key prefix and baseline key, from the catalogue. */
const RPS_AT_SCALE = SCALE_SCENARIOS.filter((s) => s.atScale?.baselineKey).map((s) => ({ prefix: s.atScale!.summaryKey, baselineKey: s.atScale!.baselineKey! }));

/** Which of the reference's two formats a summary object is in (undefined: not a benchmark-summary.json). */
export function referenceFormat(json: unknown): ReferenceFormat | undefined {
  if (!isObj(json)) return undefined;
  if (!SECTIONS.some((k) => isObj(json[k]))) return undefined;
  const ss = isObj(json.service_scale) ? json.service_scale : {};
  if (Array.isArray(ss.steps)) return 'multi-step';
  return RPS_AT_SCALE.some(({ prefix }) => `${prefix}${SINGLE_STEP_INFIX}_qps` in ss) ? 'single-step' : 'multi-step';
}

/**
 * A reference summary in the current format. Throws with `source` in the
 * message when the object is not a benchmark-summary.json.
 */
export function readReferenceSummary(json: unknown, source: string): ReferenceSummary {
  const format = referenceFormat(json);
  if (!format || !isObj(json)) {
    throw new Error(`${source}: not a benchmark-summary.json (expected an object with ${SECTIONS.join(', ')})`);
  }
  const out: Obj = {};
  for (const k of SECTIONS) out[k] = isObj(json[k]) ? { ...json[k] } : {};
  for (const k of Object.keys(json)) if (!(k in out)) out[k] = json[k];
  if (format === 'single-step') out.service_scale = singleStepScale(json.service_scale as Obj);
  return { format, summary: out };
}

/** The older script's flat service_scale keys as one step entry of the current format. */
function singleStepScale(ss: Obj): Obj {
  const out: Obj = {};
  const step: Obj = { svc_count: SINGLE_STEP_SVC_COUNT };
  for (const { prefix, baselineKey } of RPS_AT_SCALE) {
    if (typeof ss[baselineKey] === 'number') out[baselineKey] = ss[baselineKey];
    const qps = ss[`${prefix}${SINGLE_STEP_INFIX}_qps`];
    const pct = ss[`${prefix}_degradation_pct`];
    if (typeof qps === 'number') step[`${prefix}_qps`] = qps;
    if (typeof qps === 'number' && typeof pct === 'number') step[`${prefix}_degradation_pct`] = pct;
  }
  // the older script's rule counts (iptables-save or ipvsadm lines) are what the current one calls rules_count
  const rules = [ss.iptables_rules, ss.ipvs_rules].find((v): v is number => typeof v === 'number');
  if (rules !== undefined) step.rules_count = rules;
  if (Object.keys(step).length > 1) out.steps = [step];
  return out;
}

/**
 * context.yaml as the reference's summary reads it: one `key: value` per
 * line, split at the first colon, surrounding double quotes stripped, every
 * value a string.
 */
export function parseContextYaml(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i).trim();
    if (!key) continue;
    out[key] = line.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return out;
}
