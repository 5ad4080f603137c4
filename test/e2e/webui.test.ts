/**
 * The Temporal Web UI shows a real lab run the way an operator needs it:
 * headless Chromium (Debian's chromium via playwright-core) opens the dev
 * server's own UI, filters the runs by the NetbenchCluster search attribute,
 * opens the lab's run and finds its static summary/details, the live
 * "current details" progress table (setCurrentDetails) and its search
 * attributes. Real dev server, real lab, a real `netbench worker` process.
 *
 * Screenshots land in test-artifacts/ (gitignored): webui-list.png,
 * webui-run.png, webui-run-running.png, webui-search-attributes.png, and
 * webui-failure-*.png (+ .txt with the page's text) when a step fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { Page } from 'playwright-core';
import { resolveConfig } from '../../src/config';
import { runStart } from '../../src/cli/run-input';
import { buildPlan } from '../../src/domain/plan';
import type { RunResults } from '../../src/domain/results';
import { SA, WORKFLOW } from '../../src/shared';
import { builtBinary, repoRoot } from '../support/binaries';
import { artifactPath, launchChromium, screenshot, type LaunchedChromium } from '../support/browser';
import { startTestLab, type TestLab } from '../support/lab';
import { freePort } from '../support/tools';

/** Generous: 2 cores shared with other test files, a cold browser, a UI that polls. */
const UI_TIMEOUT = 90_000;

let env: TestWorkflowEnvironment;
let lab: TestLab;
let chromium: LaunchedChromium;
let page: Page;
let uiUrl: string;
let worker: ChildProcess | undefined;
let dir: string;
const queue = `webui-${randomUUID()}`;
const runId = `webui-lab-${randomUUID()}`;
const otherCluster = 'netbench-lab-elsewhere';
const distractorId = `webui-elsewhere-${randomUUID()}`;
let run: WorkflowHandle;
let distractor: WorkflowHandle | undefined;
let staticSummary: string;
const blocked: string[] = [];

async function startServer(): Promise<TestWorkflowEnvironment> {
  const uiPort = await freePort();
  const e = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: builtBinary('temporal', 'temporal') },
      ip: '127.0.0.1',
      ui: true,
      uiPort,
      searchAttributes: Object.values(SA),
      // the UI on loopback too (the CLI's default follows --ip; say it anyway)
      extraArgs: ['--ui-ip', '127.0.0.1', '--log-level', 'error'],
    },
  });
  uiUrl = `http://127.0.0.1:${uiPort}`;
  return e;
}

before(async () => {
  for (const f of readdirSync(path.dirname(artifactPath('x')))) if (f.startsWith('webui-')) rmSync(artifactPath(f)); // no stale evidence
  dir = mkdtempSync(path.join(os.tmpdir(), 'nb-webui-'));
  [env, lab, chromium] = await Promise.all([startServer(), startTestLab('webui'), launchChromium()]);
  page = await chromium.context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  // The UI must only ever talk to our loopback server: abort anything else.
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    blocked.push(route.request().url());
    return route.abort();
  });
  await startRuns();
});

after(async () => {
  await chromium?.close();
  worker?.kill('SIGKILL');
  await distractor?.terminate('webui test done').catch(() => undefined);
  await lab?.down();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * A worker for the lab, a short lab run, and a run of another cluster (the
 * same workflow type and shape, which must not pass the filter; its queue has
 * no worker, so it stays Running until after() terminates it). Started once
 * for all tests, so each test also runs alone (--test-name-pattern).
 */
async function startRuns(): Promise<void> {
  worker = spawn(path.join(repoRoot, 'bin/netbench'), ['worker', '--address', env.address, '--task-queue', queue], {
    env: { ...process.env, KUBECONFIG: lab.info.kubeconfigPath, KUBE_CONTEXT: lab.info.context },
    stdio: ['ignore', 'ignore', process.env.E2E_VERBOSE ? 'inherit' : 'ignore'],
  });
  const config = resolveConfig({
    env: {
      SVC_SCALE_STEPS: '30', IPERF_DURATION: '1', FORTIO_DURATION: '1', ROUNDS: '1', ROUND_SLEEP: '0', SETTLE_FACTOR: '0',
      METRICS_SAMPLES: '1', METRICS_SETTLE_SECS: '0', KUBECTL_TIMEOUT: '30', NETBENCH_SKIP: 'throughput,latency', NETBENCH_TASK_QUEUE: queue,
    },
    flags: { dir },
  });
  const lab_ = runStart(config, lab.info.context, true);
  staticSummary = lab_.start.staticSummary;
  run = await env.client.workflow.start(WORKFLOW.benchmarkRun, { ...lab_.start, workflowId: runId });
  // another cluster's run: stays Running (no worker on its queue), filtered out of the lab's list
  const other = runStart({ ...config, taskQueue: `${queue}-nobody` }, otherCluster, true);
  distractor = await env.client.workflow.start(WORKFLOW.benchmarkRun, { ...other.start, workflowId: distractorId });
}

/** The run list filtered by the lab's cluster (the UI takes a visibility query in its `query` URL parameter). */
async function openFilteredList(): Promise<void> {
  const query = `NetbenchCluster="${lab.info.context}"`;
  await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
  await untilShown('the lab run in the filtered list', visible(runId));
}

/** Runs a UI step; on failure keeps a screenshot and the page's text as evidence. */
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    await screenshot(page, `webui-failure-${name}.png`);
    const texts = await Promise.all(
      page.frames().map(async (f) => `--- frame ${f.url().slice(0, 120)}\n${await f.locator('body').innerText({ timeout: 5000 }).catch(() => '(no text)')}`),
    );
    writeFileSync(artifactPath(`webui-failure-${name}.txt`), `${page.url()}\n\n${texts.join('\n\n')}`);
    writeFileSync(artifactPath(`webui-failure-${name}.html`), await page.content().catch(() => ''));
    throw err;
  }
}

/**
 * Probe, and reload until `probe` finds what it looks for (the UI fetches the
 * status and the current details when a page loads). Probes wait a little
 * themselves, so the last look before giving up is at a rendered page.
 */
async function untilShown(what: string, probe: () => Promise<boolean>, timeoutMs = UI_TIMEOUT): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`the Web UI did not show ${what} within ${timeoutMs} ms (${page.url()})`);
    await page.reload({ waitUntil: 'load' });
  }
}

/** Visible text in the page or in one of its frames (the UI renders Markdown details in sandboxed iframes). */
const visible = (text: string | RegExp) => async () => {
  await Promise.any(page.frames().map((f) => f.getByText(text).first().waitFor({ state: 'visible', timeout: 10_000 })));
  return true;
};

/** The text of the Current Details pane (its own iframe: the one with the phase table). */
async function currentDetails(): Promise<string> {
  await page.getByText('Current Details').first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
  await page.waitForTimeout(1000);
  for (const f of page.frames()) {
    if (f === page.mainFrame()) continue;
    const text = await f.locator('body').innerText({ timeout: 5000 }).catch(() => '');
    if (/^phase\s+state$/m.test(text)) return text;
  }
  return '';
}

describe('the Temporal Web UI on a lab run (headless Chromium, real everything)', () => {
  it('starts a short lab run with its search attributes, plus a run of another cluster', async () => {
    const desc = await run.describe();
    assert.equal(desc.typedSearchAttributes.get(SA.cluster), lab.info.context);
    assert.equal((await distractor!.describe()).typedSearchAttributes.get(SA.cluster), otherCluster);
  });

  it('lists both runs unfiltered, and only the lab run when filtered by NetbenchCluster', async () => {
    await step('list-all', async () => {
      await page.goto(`${uiUrl}/namespaces/default/workflows`);
      await untilShown('both runs in the unfiltered list', async () => (await visible(runId)()) && (await visible(distractorId)()));
    });
    await step('list-filtered', async () => {
      await openFilteredList();
      await page.getByText(`"${lab.info.context}"`).first().waitFor({ state: 'visible' }); // the filter chip
      assert.equal(await page.getByText(distractorId).count(), 0, 'the other cluster\'s run is filtered out');
      await screenshot(page, 'webui-list.png');
    });
  });

  it('opens the run: its summary, static details, current details (while running and after completion) and search attributes', async () => {
    await step('open-run', async () => {
      await openFilteredList();
      await page.getByRole('link', { name: runId }).first().click();
      await page.waitForURL(new RegExp(`/workflows/${runId}/`));
      // the static summary is recorded on the start event and shown in the history
      await untilShown('the static summary', visible(staticSummary));
    });

    const metadataTab = () => page.getByRole('link', { name: 'User Metadata' }).or(page.getByRole('tab', { name: 'User Metadata' })).first();
    let live = '';
    await step('current-details-live', async () => {
      await metadataTab().click();
      await page.waitForURL(/\/user-metadata/);
      // Current details come from a query the UI sends to the worker (setCurrentDetails): the phase table.
      // Look while the run is live, until a phase shows as running (the run lasts about a minute).
      const end = Date.now() + UI_TIMEOUT;
      while (Date.now() < end) {
        const text = await currentDetails();
        if ((await run.describe()).status.name !== 'RUNNING') break;
        if (text) {
          live = text;
          await screenshot(page, 'webui-run-running.png');
          if (/^[\w-]+\s+running\b/m.test(text)) break; // a table row: "rps | running: fortio …"
        }
        await page.reload({ waitUntil: 'load' });
      }
      assert.ok(live, 'the Web UI showed the current details while the run was live');
      assert.match(live, /^(starting|inspect|deploy|rps|networkpolicy|hubble|service-scale|metrics|report|cleanup)\b.*\bdone\b/m, `live header line:\n${live}`);
      assert.match(live, /^phase\s+state$/m, 'the phase table');
    });

    const result = (await run.result()) as RunResults;
    assert.equal(result.status, 'completed', result.failure);

    await step('after-completion', async () => {
      await page.reload({ waitUntil: 'domcontentloaded' });
      await untilShown('the Completed status', visible('Completed'));
      // the final details: "done — … n/n done" and every phase of the plan done
      await untilShown('the final current details', async () => /^done\b.*\bdone$/m.test(await currentDetails()));
      const text = await currentDetails();
      const ran = buildPlan(result.options, result.cluster!.clusterType).phases.filter((p) => p.run).map((p) => p.phase);
      assert.ok(ran.includes('service-scale'), `the plan ran: ${ran.join(', ')}`);
      for (const phase of ran) {
        assert.match(text, new RegExp(`^${phase}\\s+done$`, 'm'), `${phase} done in the current details:\n${text}`);
      }
      // the summary and details set by the client at start (staticSummary / staticDetails)
      await untilShown('the static summary and details', async () => (await visible(staticSummary)()) && (await visible(/Scale steps/)()) && (await visible(lab.info.context)()));
      // activity summaries (the "Events with Metadata" list)
      await visible('deploy test workloads and wait Ready (300 s)')();
      await screenshot(page, 'webui-run.png');
    });

    await step('search-attributes', async () => {
      await page.getByRole('link', { name: 'Search Attributes' }).or(page.getByRole('tab', { name: 'Search Attributes' })).first().click();
      await untilShown('the search attributes', visible('NetbenchCluster'));
      const text = await page.locator('body').innerText();
      // set at start by the client, and kept current by the workflow (upsertSearchAttributes)
      assert.match(text, new RegExp(`"NetbenchCluster":\\s*"${lab.info.context}"`));
      assert.match(text, /"NetbenchClusterType":\s*"kubeproxy-iptables"/);
      assert.match(text, /"NetbenchPhase":\s*"done"/);
      assert.match(text, /"NetbenchServicesCreated":\s*30\b/);
      await screenshot(page, 'webui-search-attributes.png');
    });
    console.log(`webui: current details while the run was live:\n${live}\nnon-loopback requests blocked: ${blocked.length ? blocked.join(', ') : 'none'}`);
  });
});
