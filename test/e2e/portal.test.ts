import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchPortalBrowser, openSignedIn } from './browser.ts';
import {
  BACKEND_URL,
  freezePrometheus,
  getJson,
  guestToken,
  RESULTS_DIR,
  shiftTraffic,
  signInWhenCatalogReady,
} from './support.ts';

describe('the portal in a real browser, signed in as the demo user', () => {
  let browser: Browser;
  let page: Page;
  /** The release the deploy test rolled out to dev. */
  let deployedTag = '0.1.1';

  before(async () => {
    await signInWhenCatalogReady();
    ({ browser, page } = await launchPortalBrowser());
  });

  after(async () => {
    await browser?.close();
  });

  const open = (pathname: string) => openSignedIn(page, pathname);

  it("shows the service's health from Prometheus on its overview, linking to the Monitoring tab", async () => {
    await open('/catalog/default/component/fraud-detector');
    const card = page
      .getByText('Model health', { exact: true })
      .locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
    const health = card.getByRole('list', { name: 'Health per environment' });
    // Drift is unknown until a pod's drift window has filled (500 inputs at
    // the demo traffic's 5 requests a second, shared by its pods): right
    // after `up` that takes a few minutes, so the wait does not depend on
    // how long the platform has been running.
    await health
      .getByText(/^dev: (ok|warning|critical)$/)
      .waitFor({ timeout: 240_000 });
    await health
      .getByText(/^prod: (ok|warning|critical)$/)
      .waitFor({ timeout: 240_000 });
    const text = await health.innerText();
    // An environment within its thresholds lists its values; one in warning
    // or critical names its worst signal against the SLO (the demo servers'
    // drift can sit above PSI 0.1 by chance while their window is young).
    for (const env of ['dev', 'prod']) {
      const line = new RegExp(
        `${env}: (ok\\s+within thresholds: .*p95 latency \\d+ ms|(warning|critical)\\s+(drift PSI [\\d.]+ \\(.*SLO|p95 latency \\d+ ms \\(.*SLO|error rate [\\d.]+ % \\(.*SLO|ready pods [\\d.]+ %))`,
      );
      assert.match(text, line);
    }
    assert.match(text, /Over the last 5m/);
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'entity-health-card.png'),
      fullPage: true,
    });
    await card.getByRole('link', { name: /Monitoring/ }).click();
    await page.waitForURL(
      /\/catalog\/default\/component\/fraud-detector\/model-monitoring$/,
    );
    await page.getByText('Monitoring contract').waitFor();
  });

  it('shows the Model deployment tab with the environments the backend resolves', async () => {
    await open('/catalog/default/component/fraud-detector/model-deployment');
    await page.getByText('Deployment contract').waitFor();
    await page
      .getByRole('region', { name: 'dev environment' })
      .getByText('Available')
      .waitFor();
    await page
      .getByRole('region', { name: 'prod environment' })
      .getByText('Available')
      .waitFor();
    const text = await page.locator('main').innerText();
    for (const expected of [
      'registry.modelops.local/risk/fraud-detector',
      'builtin:deployment',
      'models',
      '2/2 ready',
    ]) {
      assert.ok(text.includes(expected), `tab shows ${expected}`);
    }
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'model-deployment-tab.png'),
      fullPage: true,
    });
  });

  it('deploys from the tab and follows the rollout to Available', async () => {
    // A release that exists in the platform's registry: the pods really run it.
    // Whichever of two identical releases dev is not running, so the preview
    // always has a change (also when the suite runs twice on one platform).
    const status = await getJson(
      `${BACKEND_URL}/api/modelops/deployments/status?entityRef=component:default/fraud-detector`,
      await guestToken(),
    );
    const running = status.body.environments.find(
      (e: any) => e.environment === 'dev',
    )?.image;
    const tag = running?.endsWith(':0.1.1') ? '0.1.0' : '0.1.1';
    deployedTag = tag;
    const image = `registry.modelops.local/risk/fraud-detector:${tag}`;
    // The tab's own Deploy, above the environments: builds' rows (once there
    // are builds) have Deploy buttons of their own further down.
    await page
      .getByRole('button', { name: 'Deploy', exact: true })
      .first()
      .click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Environment').selectOption('dev');
    await dialog.getByLabel('Image').fill(image);
    await dialog.getByRole('button', { name: 'Preview' }).click();
    const preview = dialog.getByRole('region', { name: 'Preview (dry run)' });
    await preview.getByText('spec.template.spec.containers[0].image').waitFor();
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'deploy-preview.png'),
      fullPage: true,
    });
    await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
    await dialog.getByText('Rollout complete').waitFor({ timeout: 90_000 });
    await dialog.getByRole('button', { name: 'Close' }).click();
    const dev = page.getByRole('region', { name: 'dev environment' });
    await dev.getByText(tag).first().waitFor();
    await dev.getByText('Available').waitFor();
    const history = page
      .getByText('Deployment history')
      .locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
    await history.getByText(image).first().waitFor();
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'deploy-done.png'),
      fullPage: true,
    });
  });

  it('disables deploying a service the demo user does not own, saying why', async () => {
    await open('/catalog/default/component/churn-predictor/model-deployment');
    const deploy = page.getByRole('button', { name: 'Deploy', exact: true });
    await deploy.waitFor();
    assert.equal(await deploy.isDisabled(), true);
    await deploy.locator('xpath=..').hover();
    await page
      .getByText(
        'You need the modelops.deployment.create permission on component:default/churn-predictor',
      )
      .first()
      .waitFor();
    await open('/catalog/default/component/fraud-detector/model-deployment');
  });

  it('shows the Monitoring tab with the runtime, SLOs and environments', async () => {
    await page.getByRole('tab', { name: 'Monitoring' }).click();
    await page.getByText('Monitoring contract').waitFor();
    await page.getByText('Monitored environments').waitFor();
    // Each environment's signals against their thresholds, from Prometheus.
    // Right after the deploy above, dev may be unknown: the new pods export
    // their drift gauges only once their drift window has filled.
    await page
      .getByText(/^dev: (ok|warning|critical|unknown)$/)
      .waitFor({ timeout: 90_000 });
    await page.getByText(/^prod: (ok|warning|critical|unknown)$/).waitFor();
    await page.getByRole('cell', { name: 'p95 latency' }).first().waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /kserve/);
    assert.match(text, /latency-p95-ms = 250/);
    assert.match(text, /drift-psi = 0\.2/);
    assert.equal(await page.getByText('Ready to deploy').count(), 2);
    // Charts of the last hour, with the deploy made from the other tab as a
    // marker on them and in the list of the range's deploys.
    const latency = page.getByLabel('Latency chart');
    await latency
      .locator('svg.recharts-surface')
      .first()
      .waitFor({ timeout: 60_000 });
    await latency
      .getByText(new RegExp(`^r\\d+ ${deployedTag.replaceAll('.', '\\.')}$`))
      .first()
      .waitFor();
    await page
      .getByLabel('Traffic chart')
      .locator('svg.recharts-surface')
      .first()
      .waitFor();
    const deploys = page.getByRole('list', { name: 'Deploys in this range' });
    await deploys
      .getByText(
        `registry.modelops.local/risk/fraud-detector:${deployedTag} by user:`,
      )
      .first()
      .waitFor();
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'monitoring-tab.png'),
      fullPage: true,
    });
  });

  it('lists every demo model service on the health overview', async () => {
    await open('/model-health');
    await page.getByText('Model services').first().waitFor();
    for (const name of [
      'Fraud detector',
      'Churn predictor',
      'Image classifier',
    ]) {
      await page.getByRole('link', { name, exact: true }).waitFor();
    }
    // Each row has a status, per-environment statuses and live values.
    const fraud = page
      .getByRole('link', { name: 'Fraud detector', exact: true })
      .locator('xpath=ancestor::tr[1]');
    const text = await fraud.innerText();
    assert.match(text, /\b(ok|warning|critical|unknown)\b/);
    assert.match(text, /\bdev\b/);
    assert.match(text, /\bprod\b/);
    assert.match(text, /p95 \d+ ms/);
    // The worst signal links into the service's Monitoring tab.
    const triton = page
      .getByRole('link', { name: 'Image classifier', exact: true })
      .locator('xpath=ancestor::tr[1]');
    assert.match(await triton.innerText(), /mean \d+ ms/);
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'model-health.png'),
      fullPage: true,
    });
  });

  it('shows a service whose inputs drift as degraded on the health overview, and well again once they stop', async () => {
    // churn-predictor in prod: no other test deploys or judges it.
    await shiftTraffic('churn-predictor', 'prod', 3);
    try {
      await open('/model-health');
      const row = page
        .getByRole('link', { name: 'Churn predictor', exact: true })
        .locator('xpath=ancestor::tr[1]');
      // The model server's drift window fills with shifted inputs, then
      // Prometheus scrapes the gauge; the page is reloaded meanwhile.
      const deadline = Date.now() + 240_000;
      for (;;) {
        const text = await row.innerText().catch(() => '');
        if (/prod: drift/.test(text)) break;
        assert.ok(Date.now() < deadline, `churn-predictor drifts: ${text}`);
        await page.waitForTimeout(5000);
        await page.reload();
        await row.waitFor();
      }
      assert.match(await row.innerText(), /\b(warning|critical)\b/);
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'model-health-drift.png'),
        fullPage: true,
      });
      // The worst signal opens the service's Monitoring tab.
      await row.getByRole('link', { name: 'prod: drift' }).click();
      await page.waitForURL(/\/churn-predictor\/model-monitoring$/);
      await page.getByText('Monitoring contract').waitFor();
    } finally {
      await shiftTraffic('churn-predictor', 'prod', 0);
    }
  });

  it('builds an image from the Builds card, follows its log to the push, and deploys exactly the built digest', async () => {
    await open('/catalog/default/component/fraud-detector/model-deployment');
    const card = page
      .getByText('Builds', { exact: true })
      .locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
    // Enabled once the permission check lets Ada build what her team owns.
    await card.getByRole('button', { name: 'Build', exact: true }).click();
    const trigger = page.getByRole('dialog');
    await trigger.getByLabel(/Git ref/).fill('main');
    await trigger.getByRole('button', { name: 'Build', exact: true }).click();
    // A portal that built this commit before gives that build back: build
    // again, so that this test follows a build.
    const reused = trigger.getByRole('status');
    await Promise.race([
      trigger.waitFor({ state: 'detached' }),
      reused.waitFor(),
    ]);
    if (await reused.isVisible())
      await trigger.getByRole('button', { name: 'Build again' }).click();
    await trigger.waitFor({ state: 'detached' });

    // Newest first: the build just triggered, followed while it runs.
    const row = card
      .getByRole('table', { name: 'Builds' })
      .locator('tbody tr')
      .first();
    await row.getByText(/^(queued|running|succeeded)$/).waitFor();
    await row.getByRole('button', { name: 'Log' }).click();
    const logDialog = page.getByRole('dialog');
    const log = logDialog.getByLabel('Build log');
    // BuildKit clones the source from the platform's git server, builds
    // FROM the local registry and pushes there.
    await log.getByText(/exporting to image/).waitFor({ timeout: 300_000 });
    await logDialog
      .getByText(/^Log of build [0-9a-z-]+$/)
      .waitFor({ timeout: 120_000 });
    const text = await log.innerText();
    assert.match(text, /modelops-demo\/fraud-detector/);
    assert.match(text, /pushing manifest/);
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'build-log.png'),
      fullPage: true,
    });
    await logDialog.getByRole('button', { name: 'Close' }).click();
    await row
      .getByText('succeeded', { exact: true })
      .waitFor({ timeout: 60_000 });
    const tag = await row.locator('td').nth(1).innerText();

    // The same commit again: that build comes back, and nothing is built.
    await card.getByRole('button', { name: 'Build', exact: true }).click();
    await trigger.getByRole('button', { name: 'Build', exact: true }).click();
    const again = await trigger.getByRole('status').innerText();
    assert.match(again, /was already built with the same inputs/);
    assert.ok(again.includes(`image ${tag}`), again);
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'build-reused.png'),
      fullPage: true,
    });
    await trigger.getByRole('button', { name: 'Close' }).click();
    await trigger.waitFor({ state: 'detached' });
    assert.equal(
      (await row.locator('td').nth(1).innerText()).trim(),
      tag.trim(),
    );

    await row.getByRole('button', { name: 'Deploy', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Deploy an image' });
    const image = await dialog.getByLabel('Image').inputValue();
    assert.match(
      image,
      /^registry\.modelops\.local\/risk\/fraud-detector@sha256:[0-9a-f]{64}$/,
    );
    await dialog.getByLabel('Environment').selectOption('dev');
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await dialog
      .getByRole('region', { name: 'Preview (dry run)' })
      .getByText('spec.template.spec.containers[0].image')
      .waitFor();
    await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
    await dialog.getByText('Rollout complete').waitFor({ timeout: 120_000 });
    await dialog.getByRole('button', { name: 'Close' }).click();

    // dev runs the digest, and the history names the build it came from.
    const dev = page.getByRole('region', { name: 'dev environment' });
    await dev.getByText('Available').waitFor();
    const status = await getJson(
      `${BACKEND_URL}/api/modelops/deployments/status?entityRef=component:default/fraud-detector`,
      await guestToken(),
    );
    assert.equal(
      status.body.environments.find((e: any) => e.environment === 'dev')?.image,
      image,
    );
    const history = page
      .getByText('Deployment history')
      .locator('xpath=ancestor::*[contains(@class,"MuiCard-root")][1]');
    await history
      .getByText(/^from build [0-9a-f]{8}$/)
      .first()
      .waitFor();
    await page.screenshot({
      path: path.join(RESULTS_DIR, 'build-deployed.png'),
      fullPage: true,
    });
  });

  it('keeps the Monitoring tab up while Prometheus does not answer, saying why, and recovers when it does', async () => {
    await open('/catalog/default/component/image-classifier/model-monitoring');
    await page.getByText('Monitoring contract').waitFor();
    await page
      .getByText(/^dev: (ok|warning|critical)$/)
      .waitFor({ timeout: 90_000 });
    const thaw = freezePrometheus();
    try {
      await page.reload();
      await page.getByText('Monitoring contract').waitFor();
      // Each query waits out the backend's timeout, then its signal is
      // unknown with the reason; readiness still comes from the cluster.
      await page.getByText(/^dev: unknown$/).waitFor({ timeout: 60_000 });
      const reason = page
        .getByText(
          /Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within \d+ ms/,
        )
        .first();
      await reason.waitFor({ timeout: 60_000 });
      const text = await page.locator('main').innerText();
      assert.match(text, /ready pods/i);
      assert.match(text, /Monitored environments/);
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'monitoring-prometheus-frozen.png'),
        fullPage: true,
      });
    } finally {
      thaw();
    }
    await page.reload();
    await page
      .getByText(/^dev: (ok|warning|critical)$/)
      .waitFor({ timeout: 90_000 });
  });
});
