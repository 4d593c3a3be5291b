// The browser the end-to-end tests drive: Debian's Chromium through
// playwright-core, headless, nothing sent anywhere but the portal.
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { APP_URL, RESULTS_DIR } from './support.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts Chromium and opens one page; screenshots go to RESULTS_DIR. */
export async function launchPortalBrowser(): Promise<{
  browser: Browser;
  page: Page;
}> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
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
  const page = await browser.newPage({
    viewport: { width: 1440, height: 1000 },
  });
  page.setDefaultTimeout(60_000);
  return { browser, page };
}

/** Opens a portal path, signed in as the guest (the first visit may need "Enter"). */
export async function openSignedIn(page: Page, pathname: string) {
  await page.goto(`${APP_URL}${pathname}`);
  const enter = page.getByRole('button', { name: 'Enter' });
  const signedIn = page.getByRole('link', { name: 'Model health' });
  await Promise.race([enter.waitFor(), signedIn.waitFor()]);
  if (await enter.isVisible()) await enter.click();
}
