/**
 * What a running benchmark shows of itself: the `progress` query, the Web
 * UI's current details (a markdown table of phases and the last figures)
 * and netbench's search attributes. benchmarkRun tells it what happens
 * (enter a phase, a figure recorded, a scale step's progress); it keeps the
 * bookkeeping out of the run's script.
 *
 * Search attributes are upserted only when a value changes (from 0.3 on:
 * `quiet`); runs recorded before that upserted on every phase entry and
 * every scale-step signal, and replay keeps doing so for them.
 */
import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { PhaseName } from '../config';
import { PHASES } from '../config';
import type { TimelineEntry } from '../domain/results';
import { progressQuery, SA, scaleProgressSignal, type Progress, type RunPhase } from '../shared';

type Attributes = { phase?: string; scaleStep?: number; servicesCreated?: number; trusted?: boolean; clusterType?: string; regression?: boolean };

export function isPhase(p: RunPhase): p is PhaseName {
  return (PHASES as readonly string[]).includes(p);
}

export class RunProgress {
  readonly state: Progress = {
    phase: 'starting',
    servicesCreated: 0,
    done: 0,
    total: 0,
    failures: 0,
    trusted: true,
    lastFigures: [],
    phasesDone: [],
    phasesLeft: [],
  };
  private readonly sent: Attributes = {};
  private readonly entries: TimelineEntry[] = [];
  private current?: TimelineEntry & { t0: number };

  /**
   * @param searchAttributes keep netbench's search attributes current (the client checks they are registered)
   * @param quiet upsert a search attribute only when its value changes
   */
  constructor(
    private readonly searchAttributes: boolean,
    private readonly quiet: boolean,
  ) {
    setHandler(progressQuery, () => this.state);
    setHandler(scaleProgressSignal, (p) => {
      const s = this.state;
      s.scaleStep = p.step;
      s.servicesCreated = p.servicesCreated;
      s.scenario = p.scenario;
      s.waitingFor = p.waitingFor;
      s.done += p.doneDelta ?? 0;
      if (p.lastFigure) this.note(p.lastFigure);
      else if (p.scenario && p.doneDelta) this.note(p.scenario);
      this.show();
      this.upsert({ servicesCreated: p.servicesCreated });
    });
  }

  /** A new phase: the previous one is done; the Web UI and search attributes follow. */
  enter(phase: RunPhase): void {
    if (this.current?.name !== phase) this.open(phase === 'done' ? undefined : phase); // (the warm-up and its phase are one entry)
    const s = this.state;
    if (isPhase(s.phase) && !s.phasesDone.includes(s.phase)) s.phasesDone.push(s.phase);
    s.phase = phase;
    s.scenario = undefined;
    s.waitingFor = undefined;
    this.show();
    this.upsert({ phase });
  }

  /** What is measured or awaited right now. */
  doing(what: { scenario?: string; waitingFor?: string }): void {
    if ('scenario' in what) this.state.scenario = what.scenario;
    if ('waitingFor' in what) this.state.waitingFor = what.waitingFor;
    this.show();
  }

  /** One unit of the plan finished (a figure, or why there is none). */
  recorded(label: string, figure: string, ok: boolean): void {
    this.state.done++;
    if (!ok) this.state.failures++;
    this.note(`${label}: ${figure}`);
    this.show();
  }

  // ---- where the time went (workflow time: deterministic, costs no history) ----

  /** Close the timeline entry under way and start another (undefined: none). */
  open(name: string | undefined): void {
    const now = Date.now();
    if (this.current) {
      const { t0, ...entry } = this.current;
      this.entries.push({ ...entry, seconds: (now - t0) / 1000 });
    }
    this.current = name === undefined ? undefined : { name, startedAt: new Date(now).toISOString(), t0: now, seconds: 0, toolSeconds: 0, createSeconds: 0, convergeSeconds: 0, pauseSeconds: 0 };
  }

  /** Time of the entry under way spent on something other than orchestration. */
  spent(what: { tool?: number; create?: number; converge?: number; pause?: number }): void {
    const c = this.current;
    if (!c) return;
    c.toolSeconds += what.tool ?? 0;
    c.createSeconds += what.create ?? 0;
    c.convergeSeconds += what.converge ?? 0;
    c.pauseSeconds += what.pause ?? 0;
  }

  /** The timeline so far (the entry under way counted up to now). */
  timeline(): TimelineEntry[] {
    const now = Date.now();
    const open = this.current ? (({ t0, ...e }) => [{ ...e, seconds: (now - t0) / 1000 }])(this.current) : [];
    return [...this.entries, ...open];
  }

  /** Keep the last five figures for the progress display. */
  note(line: string): void {
    const [label, ...rest] = line.split(': ');
    this.state.lastFigures = [...this.state.lastFigures.slice(-4), { label, value: rest.join(': ') }];
  }

  /** The Web UI's "current details": a table of phases, what runs, what the run waits for, the last figures. */
  show(): void {
    const p = this.state;
    const rows = [
      `**${p.phase}**${p.scaleStep ? ` — step ${p.scaleStep} Services` : ''} — ${p.done}/${p.total} done` +
        (p.failures ? `, ${p.failures} failed` : '') +
        (p.trusted ? '' : ' — ⚠ large-scale results untrusted'),
      '',
      '| phase | state |',
      '| --- | --- |',
      ...p.phasesDone.map((x) => `| ${x} | done |`),
      ...(isPhase(p.phase) ? [`| ${p.phase} | running${p.scenario ? `: ${p.scenario}` : ''} |`] : []),
      ...p.phasesLeft.filter((x) => x !== p.phase && !p.phasesDone.includes(x)).map((x) => `| ${x} | to do |`),
      ...(p.waitingFor ? ['', `Waiting for: ${p.waitingFor}`] : []),
      ...(p.lastFigures.length ? ['', '| last figures | |', '| --- | --- |', ...p.lastFigures.map((f) => `| ${f.label} | ${f.value} |`)] : []),
    ];
    setCurrentDetails(rows.join('\n'));
  }

  /** Set netbench's search attributes (only those that changed, when quiet). */
  upsert(v: Attributes): void {
    if (!this.searchAttributes) return;
    const pairs: Parameters<typeof upsertSearchAttributes>[0] = [];
    for (const [name, key] of [
      ['phase', SA.phase],
      ['scaleStep', SA.scaleStep],
      ['servicesCreated', SA.servicesCreated],
      ['trusted', SA.trusted],
      ['clusterType', SA.clusterType],
      ['regression', SA.regression],
    ] as const) {
      const value = v[name];
      if (value === undefined) continue;
      if (this.quiet && this.sent[name] === value) continue;
      (this.sent as Record<string, unknown>)[name] = value;
      (pairs as unknown[]).push({ key, value });
    }
    if (pairs.length) upsertSearchAttributes(pairs);
  }
}
