// Test helper for the page tests: the styleloom server on a free 127.0.0.1 port serving the built page,
// headless chromium with one page (light scheme, no motion) whose uncaught errors are collected.
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { createServer, type ServerOptions, type StyleloomServer } from '../../src/server/app.js';
import { launchChromium } from './browser.js';

export interface ServedPage {
  srv: StyleloomServer;
  base: string;
  browser: Browser;
  page: Page;
}

/** Starts the server with `options` and opens a 1280x800 page (overridden by `context`); errors go to `errors`. */
export async function servePage(options: ServerOptions, errors: string[], context: BrowserContextOptions = {}): Promise<ServedPage> {
  const srv = await createServer(options);
  const base = await srv.app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, colorScheme: 'light', reducedMotion: 'reduce', ...context })).newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  return { srv, base, browser, page };
}

/** Closes what servePage opened (either may be missing when its start failed). */
export async function closePage(p: { browser?: Browser; srv?: StyleloomServer }): Promise<void> {
  await p.browser?.close();
  await p.srv?.close();
}
