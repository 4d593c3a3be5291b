// SLO-gated rollouts in the portal, as the demo user, from the Model
// deployment tab with a five-minute SLO analysis: a good release's analysis
// shows on the dev card with the new pods' signals and is stopped there;
// the demo's faulty release (30 % of requests fail) breaches its error-rate
// SLO and ModelOps rolls dev back by itself to the good release, the card
// and the history saying why. Then the first release as a 25 % canary: the
// card shows the canary next to the stable pods and is stopped there, which
// removes it; the stable Deployment never runs it (the integration tests
// follow a faulty canary to its automatic removal). Dev runs what it ran
// before afterwards.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchPortalBrowser, openSignedIn } from './browser.ts';
import {
  BACKEND_URL,
  getJson,
  guestToken,
  postJson,
  RESULTS_DIR,
  signInWhenCatalogReady,
} from './support.ts';

const ENTITY_REF = 'component:default/fraud-detector';
const REPOSITORY = 'registry.modelops.local/risk/fraud-detector';

async function devStatus(token: string) {
  const res = await getJson(
    `${BACKEND_URL}/api/modelops/deployments/status?entityRef=${ENTITY_REF}`,
    token,
  );
  assert.equal(res.status, 200);
  return res.body.environments.find((e: any) => e.environment === 'dev');
}

/** Waits until dev is Available (running `image`, when given); its status. */
async function waitAvailable(token: string, image?: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const dev = await devStatus(token);
    if (dev.phase === 'Available' && (!image || dev.image === image))
      return dev;
    assert.ok(
      Date.now() < deadline,
      `dev is Available${image ? ` running ${image}` : ''}: ${JSON.stringify(
        dev,
      )}`,
    );
    await new Promise(r => setTimeout(r, 2000));
  }
}

describe('an SLO analysis in the portal', () => {
  let token: string;
  before(async () => {
    await signInWhenCatalogReady();
    token = await guestToken();
  });

  let previous: { image: string; revision: number } | undefined;
  it('follows an analysis on the dev card, stops one, and rolls a faulty release back by itself', async () => {
    // What dev runs now, deployed again through ModelOps: the revision an
    // automatic rollback goes back to must be in its history (the platform
    // started dev's first release itself).
    const dev = await waitAvailable(token);
    previous = { image: dev.image, revision: dev.revision };
    const redeployed = await postJson(
      `${BACKEND_URL}/api/modelops/deployments`,
      token,
      { entityRef: ENTITY_REF, environment: 'dev', image: dev.image },
    );
    assert.equal(redeployed.status, 201, JSON.stringify(redeployed.body));
    await waitAvailable(token, dev.image);

    const { browser, page } = await launchPortalBrowser();
    const card = page.getByRole('region', { name: 'dev environment' });
    /** Deploys `tag` to dev from the card's Deploy, with a five-minute analysis (and a canary). */
    const deployWithAnalysis = async (tag: string, canary?: string) => {
      await page.getByRole('button', { name: 'Deploy to dev' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Environment').selectOption('dev');
      await dialog.getByLabel('Image').fill(`${REPOSITORY}:${tag}`);
      await dialog.getByLabel('SLO analysis').selectOption('300');
      if (canary) await dialog.getByLabel('Canary').selectOption(canary);
      await dialog.getByRole('button', { name: 'Preview' }).click();
      await dialog.getByRole('region', { name: 'Preview (dry run)' }).waitFor();
      await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
      // The dialog follows the rollout; an analysis may end it first.
      await dialog
        .getByRole('button', { name: 'Close' })
        .and(page.locator(':not([disabled])'))
        .waitFor({ timeout: 120_000 });
      await dialog.getByRole('button', { name: 'Close' }).click();
    };
    try {
      await openSignedIn(
        page,
        '/catalog/default/component/fraud-detector/model-deployment',
      );

      // A good release: the card follows its analysis, and it can be stopped.
      await deployWithAnalysis('0.1.1');
      const analysis = card.getByRole('region', { name: 'SLO analysis' });
      await analysis
        .getByText(/SLO analysis of revision \d+: running/)
        .waitFor({ timeout: 30_000 });
      await analysis.getByText(/p95 latency \d+ ms \(SLO 250 ms\)/).waitFor({
        timeout: 60_000,
      });
      await page.mouse.move(1200, 900);
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'analysis-running.png'),
        fullPage: true,
      });
      await analysis.getByRole('button', { name: 'Stop analysis' }).click();
      await analysis
        .getByText(/SLO analysis of revision \d+: cancelled/)
        .waitFor();

      // The faulty release breaches its error-rate SLO: dev rolls back by
      // itself to the good release, and the card says why.
      await deployWithAnalysis('0.1.3');
      await card
        .getByText('Rolled back automatically')
        .waitFor({ timeout: 240_000 });
      await card
        .getByText(
          /Automatic rollback: the analysis of revision \d+ failed: errorRate/,
        )
        .waitFor();
      await page.mouse.move(1200, 900);
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'analysis-rolled-back.png'),
        fullPage: true,
      });

      // The first release as a 25 % canary: one pod next to the two stable
      // ones, its signals beside theirs; stopping it removes it, and the
      // stable pods keep the good release.
      await deployWithAnalysis('0.1.0', '25');
      await analysis
        .getByText(
          'Canary: 1 canary pod next to 2 stable (33 % of the pods, 25 % asked)',
        )
        .waitFor({ timeout: 30_000 });
      await card
        .getByText(/^0\.1\.0 · revision \d+ · 1\/1 ready$/)
        .waitFor({ timeout: 60_000 });
      await analysis
        .getByRole('list', { name: 'Stable signals' })
        .waitFor({ timeout: 60_000 });
      await page.mouse.move(1200, 900);
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'analysis-canary.png'),
        fullPage: true,
      });
      await analysis.getByRole('button', { name: 'Stop analysis' }).click();
      await card
        .getByText(/Automatic rollback: .* stopped the canary of revision \d+/)
        .waitFor({ timeout: 30_000 });
      await card
        .getByText(/^0\.1\.0 · revision/)
        .waitFor({ state: 'detached' });
    } finally {
      await browser.close();
    }

    // The rollouts this test made, newest first (the dialogs' previews are
    // recorded too, and other suites may deploy dev meanwhile): each found
    // by what it deployed, each rollback by its analysis.
    const history = await getJson(
      `${BACKEND_URL}/api/modelops/deployments?entityRef=${ENTITY_REF}&environment=dev&limit=30`,
      token,
    );
    const rollouts = history.body.items.filter((d: any) => !d.dryRun);
    const byId = (id: string) => rollouts.find((d: any) => d.id === id);
    const newestDeployOf = (tag: string) =>
      rollouts.find(
        (d: any) => d.action === 'deploy' && d.image === `${REPOSITORY}:${tag}`,
      );
    const analysisOf = async (deployment: any) =>
      (
        await getJson(
          `${BACKEND_URL}/api/modelops/deployments/${deployment.id}/analysis`,
          token,
        )
      ).body;

    const faulty = newestDeployOf('0.1.3');
    const analysis = await analysisOf(faulty);
    assert.equal(analysis.status, 'failed');
    assert.equal(analysis.breach.signal, 'errorRate');
    const rollback = byId(analysis.rollbackDeploymentId);
    assert.equal(rollback.action, 'rollback');
    assert.equal(rollback.automatic, true);
    assert.equal(rollback.image, `${REPOSITORY}:0.1.1`);

    // The canary: removed, the stable Deployment still on the good release.
    const canary = newestDeployOf('0.1.0');
    const canaryAnalysis = await analysisOf(canary);
    assert.equal(canaryAnalysis.status, 'cancelled');
    assert.equal(canaryAnalysis.canary.outcome, 'removed');
    const canaryRollback = byId(canaryAnalysis.rollbackDeploymentId);
    assert.equal(canaryRollback.image, `${REPOSITORY}:0.1.1`);
    const finalDev = await devStatus(token);
    assert.equal(finalDev.image, `${REPOSITORY}:0.1.1`);
    assert.equal(finalDev.canary, undefined);
  });

  after(async () => {
    // Dev runs what it ran before, Available again, for the suites after.
    if (!previous) return;
    await postJson(`${BACKEND_URL}/api/modelops/deployments`, token, {
      entityRef: ENTITY_REF,
      environment: 'dev',
      image: previous.image,
    });
    await waitAvailable(token, previous.image);
  });
});
