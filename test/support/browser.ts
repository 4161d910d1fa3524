import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it. The suite fails (never skips) when it is missing. */
export const CHROMIUM = process.env['GRIDWALL_CHROMIUM'] ?? '/usr/bin/chromium';

/** Where screenshots of the key screens are kept (CI keeps them as artefacts). */
export const ARTIFACTS = join('test-artifacts', 'console');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set GRIDWALL_CHROMIUM)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    // The flags keep Chromium off the network: this machine has none, and background calls only slow it down.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * The console in Chromium against a real server on a local port: one per test file. `as` logs a persona in
 * (and declares a purpose if given); `close` fails the file if any page threw a script error.
 */
export interface ConsoleHarness {
  readonly base: string;
  readonly browser: Browser;
  open(opts?: { width?: number; height?: number; timezoneId?: string; path?: string }): Promise<{ context: BrowserContext; page: Page }>;
  /** Logs a persona in on the login screen, and declares a purpose if given. */
  loginAs(page: Page, userId: string, purpose?: string): Promise<void>;
  as(userId: string, purpose?: string): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** `port`: a port chosen beforehand (single sign-on registers the callback's address before the server starts); default any. */
export async function startConsole(app: FastifyInstance, port = 0): Promise<ConsoleHarness> {
  await app.listen({ host: '127.0.0.1', port });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  const browser = await launchChromium();
  const pageErrors: string[] = [];
  const open: ConsoleHarness['open'] = async (opts = {}) => {
    const context = await browser.newContext({
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
      locale: 'ja-JP',
      timezoneId: opts.timezoneId ?? 'Asia/Tokyo',
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${base}${opts.path ?? '/'}`);
    return { context, page };
  };
  const loginAs: ConsoleHarness['loginAs'] = async (page, userId, purpose) => {
    await page.click(`button.persona[data-user="${userId}"]`);
    await page.waitForSelector('#purpose');
    if (purpose !== undefined) await page.selectOption('#purpose', purpose);
  };
  return {
    base,
    browser,
    open,
    loginAs,
    async as(userId, purpose) {
      const { context, page } = await open();
      await loginAs(page, userId, purpose);
      return { context, page };
    },
    async close() {
      await browser.close();
      await app.close();
      if (pageErrors.length > 0) throw new Error(`script errors on a page: ${pageErrors.join(' | ')}`);
    },
  };
}
