/**
 * A real browser for UI tests: Debian's headless Chromium driven by playwright-core. Every page load
 * records console errors, failed requests and HTTP errors, so a test can assert that a page loaded
 * cleanly as well as what it shows. Tests skip with a reason when /usr/bin/chromium is missing
 * (`apt-get install chromium`; .ci/run installs it). Playwright gives each launch a fresh profile dir.
 */
import fs from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install chromium)`;
}

export interface PageProblems {
  consoleErrors: string[];
  failedRequests: string[];
  httpErrors: string[];
}

export interface TestBrowser {
  /** opens url in a new page and waits for it to load; problems collects what went wrong while it did */
  open(url: string): Promise<{ page: Page; problems: PageProblems }>;
  close(): Promise<void>;
}

export interface BrowserOptions {
  /** extra HTTP headers on every request (e.g. Authorization: Bearer <token>) */
  headers?: Record<string, string>;
  /** SPKI sha256 (base64) of server certificates to accept: pins a private CA's leaf, verification stays on */
  spkiPins?: string[];
}

export async function startBrowser(o: BrowserOptions = {}): Promise<TestBrowser> {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  if (o.spkiPins?.length) args.push(`--ignore-certificate-errors-spki-list=${o.spkiPins.join(',')}`);
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args, timeout: 30_000 });
  const context: BrowserContext = await browser.newContext(o.headers ? { extraHTTPHeaders: o.headers } : {});
  return {
    async open(url) {
      const page = await context.newPage();
      const problems: PageProblems = { consoleErrors: [], failedRequests: [], httpErrors: [] };
      page.on('console', (m) => {
        if (m.type() === 'error') problems.consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => problems.consoleErrors.push(String(e)));
      page.on('requestfailed', (r) => problems.failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.httpErrors.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(url, { waitUntil: 'load', timeout: 20_000 });
      return { page, problems };
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}
