// The model-service software template through the scaffolder's API, signed
// in as the demo user Ada (team-risk): a dry run renders the skeleton with
// every ModelOps annotation; a real run publishes the repository to the
// platform's git server, registers the entity, builds its image with
// BuildKit and deploys exactly that digest to dev; a run for a team Ada is
// not in fails at the build with ModelOps' 403, and nothing is built; an
// environment ModelOps does not have is refused by the form and, before
// anything is created, by the task.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { kubectl, requireUp } from '../platform/tests/helpers.ts';
import { launchPortalBrowser, openSignedIn } from './browser.ts';
import {
  BACKEND_URL,
  getJson,
  postJson,
  REPO_ROOT,
  RESULTS_DIR,
  signInWhenCatalogReady,
} from './support.ts';

const TEMPLATE = path.join(
  REPO_ROOT,
  'examples',
  'templates',
  'model-service',
  'template.yaml',
);
const suffix = Date.now().toString(36);

const values = (name: string, owner = 'group:default/team-risk') => ({
  name,
  description: 'Scores loans: "risk", with a colon and quotes',
  owner,
  system: 'system:default/payments-ml',
  runtime: 'kserve',
  latencyP95Ms: 300,
  errorRate: 0.02,
  driftPsi: 0.25,
  environments: ['dev'],
});

interface Task {
  id: string;
  status: string;
}

/** Runs the template as a task and waits for it to end; its status and log. */
async function runTask(
  token: string,
  taskValues: object,
): Promise<{ task: Task; log: string }> {
  const created = await postJson(
    `${BACKEND_URL}/api/scaffolder/v2/tasks`,
    token,
    {
      templateRef: 'template:default/model-service',
      values: taskValues,
    },
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  const deadline = Date.now() + 600_000;
  for (;;) {
    const { body: task } = await getJson(
      `${BACKEND_URL}/api/scaffolder/v2/tasks/${id}`,
      token,
    );
    if (['completed', 'failed', 'cancelled'].includes(task.status)) {
      const events = await getJson(
        `${BACKEND_URL}/api/scaffolder/v2/tasks/${id}/events`,
        token,
      );
      const log = (events.body as any[])
        .filter(e => e.type === 'log')
        .map(e => e.body.message)
        .join('\n');
      return { task, log };
    }
    assert.ok(Date.now() < deadline, `task ${id} is still ${task.status}`);
    await new Promise(r => setTimeout(r, 2000));
  }
}

describe('the model-service template', () => {
  let token: string;
  /** The services the runs deployed to dev, removed afterwards so the node keeps room for the next suites. */
  const deployed: string[] = [];
  after(() => {
    const dev = requireUp().clusters.find(c => c.name === 'dev')!.kubeconfig;
    for (const name of deployed)
      kubectl(dev, [
        '-n',
        'models',
        'delete',
        'deployments,services,horizontalpodautoscalers',
        '-l',
        `backstage.io/kubernetes-id=${name}`,
        '--wait=false',
      ]);
  });
  before(async () => {
    token = await signInWhenCatalogReady();
    // The template's location is processed with the others, seconds apart.
    const deadline = Date.now() + 120_000;
    while (
      (
        await getJson(
          `${BACKEND_URL}/api/catalog/entities/by-name/template/default/model-service`,
          token,
        ).catch(() => ({ status: 0 }))
      ).status !== 200
    ) {
      assert.ok(Date.now() < deadline, 'the template reaches the catalog');
      await new Promise(r => setTimeout(r, 1000));
    }
  });

  it('renders the skeleton with every ModelOps annotation, user input quoted (dry run)', async () => {
    const template = parse(readFileSync(TEMPLATE, 'utf8'));
    const res = await postJson(
      `${BACKEND_URL}/api/scaffolder/v2/dry-run`,
      token,
      {
        template,
        values: values(`dry-${suffix}`),
        secrets: {},
        directoryContents: [],
      },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 2000));
    const files = new Map<string, string>(
      (res.body.directoryContents as any[]).map(f => [
        f.path,
        Buffer.from(f.base64Content, 'base64').toString('utf8'),
      ]),
    );
    for (const f of [
      'Dockerfile',
      'package.json',
      'src/server.ts',
      'README.md',
    ])
      assert.ok(files.has(f), `${f} is rendered`);
    assert.ok(
      [...files.keys()].some(f => f.startsWith('tests/')),
      'the model server tests come along',
    );
    assert.match(
      files.get('Dockerfile')!,
      new RegExp(`^ARG MODEL_NAME=dry-${suffix}$`, 'm'),
    );
    const entity = parse(files.get('catalog-info.yaml')!);
    assert.equal(entity.metadata.name, `dry-${suffix}`);
    assert.equal(
      entity.metadata.description,
      'Scores loans: "risk", with a colon and quotes',
    );
    assert.deepEqual(entity.metadata.annotations, {
      'backstage.io/kubernetes-id': `dry-${suffix}`,
      'backstage.io/kubernetes-namespace': 'models',
      'backstage.io/source-location': `url:http://127.0.0.1:13000/modelops-demo/dry-${suffix}/src/branch/main/`,
      'modelops/image': `registry.modelops.local/team-risk/dry-${suffix}`,
      'modelops/manifests': 'builtin:deployment',
      'modelops/runtime': 'kserve',
      'modelops/slo': 'latency-p95-ms=300,error-rate=0.02,drift-psi=0.25',
    });
    assert.deepEqual(entity.spec, {
      type: 'model-service',
      lifecycle: 'experimental',
      owner: 'group:default/team-risk',
      system: 'system:default/payments-ml',
    });
  });

  it('refuses a name that is not a DNS label before the task starts', async () => {
    const res = await postJson(
      `${BACKEND_URL}/api/scaffolder/v2/tasks`,
      token,
      {
        templateRef: 'template:default/model-service',
        values: values('Bad_Name'),
      },
    );
    assert.equal(res.status, 400, JSON.stringify(res.body));
  });

  it('refuses an environment that is not configured on the server, before anything is created', async () => {
    const name = `qa-model-${suffix}`;
    const { task, log } = await runTask(token, {
      ...values(name),
      environments: ['dev', 'qa'],
    });
    assert.equal(task.status, 'failed');
    assert.match(
      log,
      /"qa" is not a configured ModelOps environment; configured: dev, prod/,
    );
    const repo = await fetch(
      `http://127.0.0.1:13000/api/v1/repos/modelops-demo/${name}`,
    );
    assert.equal(repo.status, 404);
  });

  it('publishes, registers, builds and deploys a new service that runs its built digest in dev', async () => {
    const name = `loan-scorer-${suffix}`;
    deployed.push(name);
    const { task, log } = await runTask(token, values(name));
    assert.equal(task.status, 'completed', log.slice(-3000));
    const entityRef = `component:default/${name}`;
    const builds = await getJson(
      `${BACKEND_URL}/api/modelops/builds?entityRef=${entityRef}`,
      token,
    );
    assert.equal(builds.body.items.length, 1);
    const build = builds.body.items[0];
    assert.equal(build.status, 'succeeded');
    assert.match(build.source.url, new RegExp(`/modelops-demo/${name}\\.git$`));
    const status = await getJson(
      `${BACKEND_URL}/api/modelops/deployments/status?entityRef=${entityRef}`,
      token,
    );
    const dev = status.body.environments.find(
      (e: any) => e.environment === 'dev',
    );
    assert.equal(dev.phase, 'Available');
    assert.equal(dev.image, `${build.image}@${build.digest}`);
    const history = await getJson(
      `${BACKEND_URL}/api/modelops/deployments?entityRef=${entityRef}`,
      token,
    );
    assert.equal(history.body.items[0].buildId, build.id);

    // Its pods are scraped: the Monitoring tab's replicas chart has them.
    const deadline = Date.now() + 240_000;
    for (;;) {
      const end = new Date();
      const start = new Date(end.getTime() - 5 * 60_000);
      const metrics = await getJson(
        `${BACKEND_URL}/api/modelops/metrics?entityRef=${entityRef}&environment=dev&start=${start.toISOString()}&end=${end.toISOString()}`,
        token,
      );
      const replicas = metrics.body.signals?.find(
        (s: any) => s.signal === 'replicas',
      );
      const up = replicas?.series?.some((x: any) =>
        x.points.some((p: [number, number]) => p[1] >= 1),
      );
      if (up) break;
      assert.ok(
        Date.now() < deadline,
        `Prometheus scrapes ${name}: ${JSON.stringify(replicas)}`,
      );
      await new Promise(r => setTimeout(r, 5000));
    }

    // The Model health page's query judges it, its dev pods all ready.
    const healthDeadline = Date.now() + 120_000;
    for (;;) {
      const health = await postJson(
        `${BACKEND_URL}/api/modelops/health/query`,
        token,
        { filter: { 'metadata.name': name } },
      );
      assert.equal(health.status, 200, JSON.stringify(health.body));
      const dev = health.body.items
        .find((i: any) => i.entityRef === entityRef)
        ?.environments.find((e: any) => e.environment === 'dev');
      if (dev?.values.readyRatio === 1) break;
      assert.ok(
        Date.now() < healthDeadline,
        `the health overview shows ${name}: ${JSON.stringify(health.body)}`,
      );
      await new Promise(r => setTimeout(r, 5000));
    }

    // The repository is a working service on its own: its tests pass.
    const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
    try {
      const clone = spawnSync(
        'git',
        ['clone', '--quiet', `${build.source.url}`, dir],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(clone.status, 0, clone.stderr);
      // `npm test`, with the TAP reporter to read its summary.
      // Its own run, not a subtest of this one (node --test marks children).
      const { NODE_TEST_CONTEXT: _parent, ...env } = process.env;
      const tests = spawnSync('npm', ['test', '--', '--test-reporter=tap'], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 300_000,
      });
      assert.equal(tests.status, 0, `${tests.stdout}\n${tests.stderr}`);
      assert.match(tests.stdout, /^# pass [1-9]\d*$/m);
      assert.match(tests.stdout, /^# fail 0$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates a service from the Create page, follows the task and lands on its Model deployment tab', async () => {
    const name = `ui-model-${suffix}`;
    deployed.push(name);
    const { browser, page } = await launchPortalBrowser();
    try {
      await openSignedIn(page, '/create');
      // The portal lists one template: this one.
      await page
        .getByRole('button', { name: /choose/i })
        .first()
        .click();
      await page.locator('#root_name').fill(name);
      await page.locator('#root_description').fill('Made in the browser');
      const owner = page.locator('#root_owner');
      await owner.click();
      await owner.fill('team-risk');
      await page
        .getByRole('option', { name: /team-risk/ })
        .first()
        .click();
      await page.getByRole('button', { name: 'Next' }).click();
      // Runtime and SLOs keep their defaults.
      await page.getByRole('button', { name: 'Next' }).click();
      // The environments come from ModelOps: dev is chosen, prod offered.
      await page
        .getByRole('checkbox', { name: 'prod' })
        .waitFor({ timeout: 30_000 });
      assert.ok(await page.getByRole('checkbox', { name: 'dev' }).isChecked());
      assert.ok(
        !(await page.getByRole('checkbox', { name: 'prod' }).isChecked()),
      );
      await page.getByRole('button', { name: 'Review' }).click();
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'template-review.png'),
        fullPage: true,
      });
      await page.getByRole('button', { name: 'Create' }).click();
      // The task page follows the steps; its output links open the entity.
      const link = page.getByRole('link', { name: 'Model deployment' });
      await link.waitFor({ timeout: 600_000 });
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'template-task.png'),
        fullPage: true,
      });
      await link.click();
      await page.waitForURL(
        new RegExp(`/catalog/default/component/${name}/model-deployment$`),
      );
      const dev = page.getByRole('region', { name: 'dev environment' });
      await dev.getByText('Available').waitFor({ timeout: 120_000 });
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'template-entity.png'),
        fullPage: true,
      });
    } finally {
      await browser.close();
    }
  });

  it('refuses in the form an environment ModelOps does not have, before the task starts', async () => {
    const { browser, page } = await launchPortalBrowser();
    try {
      // A link that fills the form, as a wiki page might carry.
      const formData = JSON.stringify({
        name: `linked-model-${suffix}`,
        description: 'From a link',
        owner: 'group:default/team-risk',
        environments: ['dev', 'qa'],
      });
      await openSignedIn(
        page,
        `/create/templates/default/model-service?formData=${encodeURIComponent(
          formData,
        )}`,
      );
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('button', { name: 'Review' }).click();
      await page
        .getByText('"qa" is not a configured ModelOps environment', {
          exact: false,
        })
        .first()
        .waitFor({ timeout: 30_000 });
      await page.screenshot({
        path: path.join(RESULTS_DIR, 'template-environment-refused.png'),
        fullPage: true,
      });
      assert.equal(
        await page.getByRole('button', { name: 'Create' }).count(),
        0,
        'the form does not reach its review step',
      );
    } finally {
      await browser.close();
    }
  });

  it('stops at the owner check for an owner that does not exist, and creates no repository', async () => {
    const name = `orphan-model-${suffix}`;
    const { task, log } = await runTask(
      token,
      values(name, 'group:default/no-such-team'),
    );
    assert.equal(task.status, 'failed');
    assert.match(log, /group:default\/no-such-team/);
    const repo = await fetch(
      `http://127.0.0.1:13000/api/v1/repos/modelops-demo/${name}`,
    );
    assert.equal(repo.status, 404);
  });

  it("fails at the build with ModelOps' 403 for a team the user is not in, and builds nothing", async () => {
    const name = `growth-model-${suffix}`;
    const { task, log } = await runTask(
      token,
      values(name, 'group:default/team-growth'),
    );
    assert.equal(task.status, 'failed');
    assert.match(log, /failed with 403: .*modelops\.build\.create/);
    const builds = await getJson(
      `${BACKEND_URL}/api/modelops/builds?entityRef=component:default/${name}`,
      token,
    );
    assert.deepEqual(builds.body.items, []);
  });
});
