// Debian's Chromium driven by puppeteer-core, headless and offline-quiet (no background networking, no
// component updates), for the web dashboard's browser test and its README screenshot. It records every
// console error, page error, failed request and 4xx/5xx answer, so a caller can require there were none.
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught page errors, failed requests and error answers, in order. */
  problems: string[];
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return puppeteer.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
}

export async function watchedPage(browser: Browser, width = 1440, height = 900): Promise<WatchedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width, height, deviceScaleFactor: 1 });
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${(err as Error).message}`));
  page.on('requestfailed', (req) =>
    problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return { page, problems };
}
