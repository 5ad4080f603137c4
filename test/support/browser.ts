/**
 * Headless Chromium for browser tests: Debian's chromium (scripts/setup.sh
 * browser) driven by playwright-core. Playwright's own browser download
 * cannot work on this machine, so the system binary is used.
 *
 *   const browser = await launchChromium();
 *   const page = await browser.context.newPage();
 *   ...
 *   await browser.close();   // also removes the throw-away profile
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from './binaries';

export const CHROMIUM = process.env.NETBENCH_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags why: running as root needs --no-sandbox; there is no GPU; and the
 * machine's network is closed, so every background connection Chromium makes
 * on its own (updates, sync, field trials, QUIC probes) is switched off —
 * otherwise it keeps trying to reach outside hosts. A fresh, empty profile per
 * launch keeps runs independent (given as launchPersistentContext's
 * userDataDir: Playwright refuses a --user-data-dir argument).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedChromium> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh browser (installs Debian's chromium)`);
  }
  const profile = mkdtempSync(path.join(os.tmpdir(), 'nb-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
      timeout: 120_000, // 2 busy cores: a cold start can take a while
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** test-artifacts/ (gitignored), created on demand. */
export function artifactPath(name: string): string {
  const dir = path.join(repoRoot, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

/** A full-page screenshot into test-artifacts/; never throws (it is evidence, not the test). */
export async function screenshot(page: Page, name: string): Promise<string | undefined> {
  const file = artifactPath(name);
  try {
    await page.screenshot({ path: file, fullPage: true, timeout: 60_000 });
    return file;
  } catch {
    return undefined;
  }
}
