import { registerMswTestHooks } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  DefaultGithubCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import { ModelOpsBuildRequest } from '@modelops/plugin-modelops-node';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { GithubActionsConfig } from './config';
import {
  formatExternalRef,
  GithubActionsBuilder,
  parseExternalRef,
} from './GithubActionsBuilder';

const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const GHE_TOKEN = 'ghe_token_9876543210zyxwvutsrqponmlkjihgf';
const API = 'https://api.github.com';
const REPO = `${API}/repos/acme/fraud-detector`;
const GHE_API = 'https://ghe.example.com/api/v3';
/** Where GitHub redirects job log downloads: another host, signed URLs. */
const LOGS = 'https://pipelines.actions.githubusercontent.test';
const RUN_ID = 9_876_543_210;
const REF = `github-actions:github.com/acme/fraud-detector/runs/${RUN_ID}`;
const HTML_URL = `https://github.com/acme/fraud-detector/actions/runs/${RUN_ID}`;
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

const request: ModelOpsBuildRequest = {
  buildId: '3f2c8a1e-5b7d-4e2a-9c1f-0d6e8b4a2f10',
  entity: {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'fraud-detector', namespace: 'default' },
    spec: { type: 'model-service', owner: 'group:default/team-risk' },
  },
  entityRef: 'component:default/fraud-detector',
  source: {
    url: 'https://github.com/acme/fraud-detector.git',
    ref: 'main',
    commit: COMMIT,
    contextPath: 'service',
    dockerfile: 'Dockerfile',
  },
  buildArgs: { MODEL_VERSION: '7' },
  image: {
    repository: 'registry.example.com/risk/fraud-detector',
    tag: '0123456789ab',
  },
};

function makeBuilder(
  config: Partial<GithubActionsConfig> = {},
  extra: { sleep?: (ms: number) => Promise<void> } = {},
) {
  const integrations = ScmIntegrations.fromConfig(
    new ConfigReader({
      integrations: {
        github: [
          { host: 'github.com', token: TOKEN },
          { host: 'ghe.example.com', apiBaseUrl: GHE_API, token: GHE_TOKEN },
        ],
      },
    }),
  );
  return new GithubActionsBuilder({
    config: { workflow: 'modelops-build.yml', ...config },
    integrations,
    credentials:
      DefaultGithubCredentialsProvider.fromIntegrations(integrations),
    sleep: extra.sleep ?? (async () => {}),
  });
}

/** A workflow run as GitHub's REST API describes it. */
function run(fields: Record<string, unknown> = {}) {
  return {
    id: RUN_ID,
    name: 'ModelOps build',
    display_title: `ModelOps build ${request.buildId}`,
    event: 'workflow_dispatch',
    head_branch: 'main',
    head_sha: COMMIT,
    run_attempt: 1,
    status: 'queued',
    conclusion: null,
    html_url: HTML_URL,
    url: `${REPO}/actions/runs/${RUN_ID}`,
    created_at: '2026-03-02T10:00:00Z',
    run_started_at: '2026-03-02T10:00:01Z',
    updated_at: '2026-03-02T10:04:30Z',
    ...fields,
  };
}

/** A job of a workflow run, as GitHub's REST API describes it. */
function job(id: number, name: string, fields: Record<string, unknown> = {}) {
  return {
    id,
    run_id: RUN_ID,
    run_url: `${REPO}/actions/runs/${RUN_ID}`,
    name,
    status: 'completed',
    conclusion: 'success',
    started_at: '2026-03-02T10:00:05Z',
    completed_at: '2026-03-02T10:04:20Z',
    html_url: `https://github.com/acme/fraud-detector/actions/runs/${RUN_ID}/job/${id}`,
    check_run_url: `${REPO}/check-runs/${id}`,
    steps: [],
    ...fields,
  };
}

/** A check run annotation, as GitHub's REST API describes it. */
function annotation(title: string, message: string) {
  return {
    path: '.github',
    blob_href: `https://github.com/acme/fraud-detector/blob/${COMMIT}/.github`,
    start_line: 1,
    end_line: 1,
    start_column: null,
    end_column: null,
    annotation_level: 'notice',
    title,
    message,
    raw_details: '',
  };
}

/** The error a promise rejects with; fails the test if it resolves. */
async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const server = setupServer();
registerMswTestHooks(server);

describe('GithubActionsBuilder (GitHub API mocked with msw)', () => {
  describe('trigger', () => {
    it('dispatches the workflow with the token, the build inputs and return_run_details (GitHub API mocked with msw)', async () => {
      const seen: Request[] = [];
      let body: any;
      server.use(
        http.post(
          `${REPO}/actions/workflows/modelops-build.yml/dispatches`,
          async ({ request: req }) => {
            seen.push(req.clone());
            body = await req.json();
            return HttpResponse.json({
              workflow_run_id: RUN_ID,
              run_url: `${REPO}/actions/runs/${RUN_ID}`,
              html_url: HTML_URL,
            });
          },
        ),
      );
      const started = await makeBuilder().trigger({ request });
      expect(started).toEqual({ externalRef: REF, url: HTML_URL });
      expect(seen).toHaveLength(1);
      const headers = seen[0]!.headers;
      expect(headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
      expect(headers.get('accept')).toBe('application/vnd.github+json');
      expect(headers.get('x-github-api-version')).toBe('2022-11-28');
      expect(body).toEqual({
        ref: 'main',
        return_run_details: true,
        inputs: {
          build_id: request.buildId,
          image: 'registry.example.com/risk/fraud-detector',
          tag: '0123456789ab',
          commit: COMMIT,
          context: 'service',
          dockerfile: 'Dockerfile',
          build_args: '{"MODEL_VERSION":"7"}',
        },
      });
      expect(started.externalRef).not.toContain(TOKEN);
    });

    it('sends an empty commit when the ref was not resolved (GitHub API mocked with msw)', async () => {
      let body: any;
      server.use(
        http.post(
          `${REPO}/actions/workflows/modelops-build.yml/dispatches`,
          async ({ request: req }) => {
            body = await req.json();
            return HttpResponse.json({ workflow_run_id: RUN_ID });
          },
        ),
      );
      const { commit: _commit, ...source } = request.source;
      const started = await makeBuilder().trigger({
        request: { ...request, source, buildArgs: {} },
      });
      expect(started).toEqual({ externalRef: REF });
      expect(body.inputs.commit).toBe('');
      expect(body.inputs.build_args).toBe('{}');
    });

    it('encodes the workflow and dispatches in the configured repository (GitHub API mocked with msw)', async () => {
      const paths: string[] = [];
      server.use(
        http.post(
          `${API}/repos/:owner/:repo/actions/workflows/:workflow/dispatches`,
          ({ request: req }) => {
            paths.push(new URL(req.url).pathname);
            return HttpResponse.json({ workflow_run_id: 5 });
          },
        ),
      );
      const started = await makeBuilder({
        workflow: '161335',
        repository: { owner: 'acme-builds', repo: 'images' },
      }).trigger({ request });
      expect(paths).toEqual([
        '/repos/acme-builds/images/actions/workflows/161335/dispatches',
      ]);
      expect(started.externalRef).toBe(
        'github-actions:github.com/acme-builds/images/runs/5',
      );
    });

    it('uses the API base URL and token of a GitHub Enterprise integration (GitHub API mocked with msw)', async () => {
      let auth: string | null = null;
      server.use(
        http.post(
          `${GHE_API}/repos/risk/fraud-detector/actions/workflows/modelops-build.yml/dispatches`,
          ({ request: req }) => {
            auth = req.headers.get('authorization');
            return HttpResponse.json({ workflow_run_id: 12 });
          },
        ),
      );
      const started = await makeBuilder().trigger({
        request: {
          ...request,
          source: {
            ...request.source,
            url: 'https://ghe.example.com/risk/fraud-detector.git',
          },
        },
      });
      expect(auth).toBe(`Bearer ${GHE_TOKEN}`);
      expect(started.externalRef).toBe(
        'github-actions:ghe.example.com/risk/fraud-detector/runs/12',
      );
    });

    it('finds the run by its run name when GitHub answers 204 without run details (GitHub API mocked with msw)', async () => {
      const queries: URLSearchParams[] = [];
      const sleeps: number[] = [];
      server.use(
        http.post(
          `${REPO}/actions/workflows/modelops-build.yml/dispatches`,
          () => new HttpResponse(null, { status: 204 }),
        ),
        http.get(
          `${REPO}/actions/workflows/modelops-build.yml/runs`,
          ({ request: req }) => {
            queries.push(new URL(req.url).searchParams);
            // The run appears on the second look.
            const runs =
              queries.length < 2
                ? [run({ id: 1, display_title: 'ModelOps build other' })]
                : [
                    run({ id: 1, display_title: 'ModelOps build other' }),
                    run(),
                  ];
            return HttpResponse.json({
              total_count: runs.length,
              workflow_runs: runs,
            });
          },
        ),
      );
      const before = Date.now();
      const started = await makeBuilder(
        {},
        {
          sleep: async ms => {
            sleeps.push(ms);
          },
        },
      ).trigger({ request });
      expect(started).toEqual({ externalRef: REF, url: HTML_URL });
      expect(sleeps).toEqual([2000, 2000]);
      expect(queries[0]!.get('event')).toBe('workflow_dispatch');
      const created = queries[0]!.get('created')!;
      expect(created).toMatch(/^>=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const since = Date.parse(created.slice(2));
      expect(since).toBeLessThan(before);
      expect(since).toBeGreaterThan(before - 5 * 60_000);
    });

    it('gives up after a bounded number of looks and says what run-name the workflow needs (GitHub API mocked with msw)', async () => {
      let looks = 0;
      server.use(
        http.post(
          `${REPO}/actions/workflows/modelops-build.yml/dispatches`,
          () => new HttpResponse(null, { status: 204 }),
        ),
        http.get(`${REPO}/actions/workflows/modelops-build.yml/runs`, () => {
          looks++;
          return HttpResponse.json({ total_count: 0, workflow_runs: [] });
        }),
      );
      await expect(makeBuilder().trigger({ request })).rejects.toThrow(
        /no run named after build 3f2c8a1e.*run-name: ModelOps build \$\{\{ inputs.build_id \}\}/,
      );
      expect(looks).toBe(5);
    });

    it('dispatches again without return_run_details when an older GitHub refuses the field (GitHub API mocked with msw)', async () => {
      const bodies: any[] = [];
      server.use(
        http.post(
          `${REPO}/actions/workflows/modelops-build.yml/dispatches`,
          async ({ request: req }) => {
            const body: any = await req.json();
            bodies.push(body);
            if ('return_run_details' in body)
              return HttpResponse.json(
                {
                  message:
                    'Invalid request.\n\n"return_run_details" is not a permitted key.',
                  documentation_url:
                    'https://docs.github.com/enterprise-server@3.16/rest/actions/workflows#create-a-workflow-dispatch-event',
                },
                { status: 422 },
              );
            return new HttpResponse(null, { status: 204 });
          },
        ),
        http.get(`${REPO}/actions/workflows/modelops-build.yml/runs`, () =>
          HttpResponse.json({ total_count: 1, workflow_runs: [run()] }),
        ),
      );
      const started = await makeBuilder().trigger({ request });
      expect(started.externalRef).toBe(REF);
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).not.toHaveProperty('return_run_details');
      expect(bodies[1].inputs).toEqual(bodies[0].inputs);
    });

    it('refuses a commit SHA as ref without calling GitHub (GitHub API mocked with msw)', async () => {
      await expect(
        makeBuilder().trigger({
          request: {
            ...request,
            source: { ...request.source, ref: COMMIT },
          },
        }),
      ).rejects.toThrow(/is a commit: build a branch or tag/);
    });

    it('refuses a host that has no GitHub integration, naming it (GitHub API mocked with msw)', async () => {
      await expect(
        makeBuilder().trigger({
          request: {
            ...request,
            source: {
              ...request.source,
              url: 'https://git.example.com/risk/fraud-detector.git',
            },
          },
        }),
      ).rejects.toThrow(
        'git.example.com has no GitHub integration: add it under integrations.github',
      );
    });

    it('names the status and GitHub message of a refused dispatch, never the token (GitHub API mocked with msw)', async () => {
      server.use(
        http.post(
          `${REPO}/actions/workflows/modelops-build.yml/dispatches`,
          () =>
            HttpResponse.json(
              {
                message: 'Bad credentials',
                documentation_url: 'https://docs.github.com/rest',
              },
              { status: 401 },
            ),
        ),
      );
      const error = await errorOf(makeBuilder().trigger({ request }));
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toContain('401');
      expect(error.message).toContain('Bad credentials');
      expect(error.message).not.toContain(TOKEN);
    });

    it('never shows the token even when an answer echoes it (GitHub API mocked with msw)', async () => {
      server.use(
        http.post(
          `${REPO}/actions/workflows/modelops-build.yml/dispatches`,
          () =>
            HttpResponse.json(
              { message: `token ${TOKEN} is not allowed here` },
              { status: 403 },
            ),
        ),
      );
      const error = await errorOf(makeBuilder().trigger({ request }));
      expect(error.message).toContain('403');
      expect(error.message).not.toContain(TOKEN);
    });

    it('explains a 404 dispatch (GitHub API mocked with msw)', async () => {
      server.use(
        http.post(
          `${REPO}/actions/workflows/modelops-build.yml/dispatches`,
          () => HttpResponse.json({ message: 'Not Found' }, { status: 404 }),
        ),
      );
      await expect(makeBuilder().trigger({ request })).rejects.toThrow(
        /must be on the default branch of acme\/fraud-detector.*GitHub answered 404 .*Not Found/,
      );
    });
  });

  describe('status', () => {
    function answerRun(fields: Record<string, unknown>) {
      server.use(
        http.get(`${REPO}/actions/runs/${RUN_ID}`, () =>
          HttpResponse.json(run(fields)),
        ),
      );
    }

    it.each(['queued', 'waiting', 'requested', 'pending'])(
      'maps %s to queued (GitHub API mocked with msw)',
      async status => {
        answerRun({ status });
        await expect(
          makeBuilder().status({ externalRef: REF }),
        ).resolves.toEqual({
          phase: 'queued',
          startedAt: '2026-03-02T10:00:01Z',
        });
      },
    );

    it('maps in_progress to running (GitHub API mocked with msw)', async () => {
      answerRun({ status: 'in_progress' });
      await expect(makeBuilder().status({ externalRef: REF })).resolves.toEqual(
        { phase: 'running', startedAt: '2026-03-02T10:00:01Z' },
      );
    });

    it('maps the cancelled conclusion to cancelled (GitHub API mocked with msw)', async () => {
      answerRun({ status: 'completed', conclusion: 'cancelled' });
      await expect(
        makeBuilder().status({ externalRef: REF }),
      ).resolves.toMatchObject({
        phase: 'cancelled',
        startedAt: '2026-03-02T10:00:01Z',
        finishedAt: '2026-03-02T10:04:30Z',
      });
    });

    it.each([
      'failure',
      'timed_out',
      'startup_failure',
      'action_required',
      'neutral',
      'skipped',
      'stale',
    ])(
      'maps the %s conclusion to failed with that reason and a link (GitHub API mocked with msw)',
      async conclusion => {
        answerRun({ status: 'completed', conclusion });
        const status = await makeBuilder().status({ externalRef: REF });
        expect(status).toEqual({
          phase: 'failed',
          reason: conclusion,
          message: expect.stringContaining(HTML_URL),
          startedAt: '2026-03-02T10:00:01Z',
          finishedAt: '2026-03-02T10:04:30Z',
        });
        expect(status.message).toContain(conclusion);
      },
    );

    it('reads the digest of a successful run from the modelops-digest annotation (GitHub API mocked with msw)', async () => {
      answerRun({ status: 'completed', conclusion: 'success' });
      server.use(
        http.get(`${REPO}/actions/runs/${RUN_ID}/jobs`, () =>
          HttpResponse.json({
            total_count: 2,
            jobs: [job(202, 'push'), job(201, 'test')],
          }),
        ),
        http.get(`${REPO}/check-runs/201/annotations`, () =>
          HttpResponse.json([
            annotation('lint', 'sha256:not-a-digest'),
            annotation(DIGEST, 'the title is what counts'),
          ]),
        ),
        http.get(`${REPO}/check-runs/202/annotations`, () =>
          HttpResponse.json([
            annotation('modelops-digest', 'sha256:short'),
            annotation('modelops-digest', DIGEST),
          ]),
        ),
      );
      await expect(makeBuilder().status({ externalRef: REF })).resolves.toEqual(
        {
          phase: 'succeeded',
          digest: DIGEST,
          startedAt: '2026-03-02T10:00:01Z',
          finishedAt: '2026-03-02T10:04:30Z',
        },
      );
    });

    it('fails a successful run without a digest annotation as NoDigest (GitHub API mocked with msw)', async () => {
      answerRun({ status: 'completed', conclusion: 'success' });
      server.use(
        http.get(`${REPO}/actions/runs/${RUN_ID}/jobs`, () =>
          HttpResponse.json({ total_count: 1, jobs: [job(201, 'build')] }),
        ),
        http.get(`${REPO}/check-runs/201/annotations`, () =>
          HttpResponse.json([annotation('modelops-digest', 'latest')]),
        ),
      );
      const status = await makeBuilder().status({ externalRef: REF });
      expect(status).toMatchObject({ phase: 'failed', reason: 'NoDigest' });
      expect(status.message).toContain(
        '::notice title=modelops-digest::sha256:<digest>',
      );
      expect(status.message).toContain(HTML_URL);
    });

    it('fails a run that reported two different digests (GitHub API mocked with msw)', async () => {
      answerRun({ status: 'completed', conclusion: 'success' });
      const other = `sha256:${'cd'.repeat(32)}`;
      server.use(
        http.get(`${REPO}/actions/runs/${RUN_ID}/jobs`, () =>
          HttpResponse.json({
            total_count: 2,
            jobs: [job(201, 'amd64'), job(202, 'arm64')],
          }),
        ),
        http.get(`${REPO}/check-runs/201/annotations`, () =>
          HttpResponse.json([annotation('modelops-digest', DIGEST)]),
        ),
        http.get(`${REPO}/check-runs/202/annotations`, () =>
          HttpResponse.json([annotation('modelops-digest', other)]),
        ),
      );
      await expect(
        makeBuilder().status({ externalRef: REF }),
      ).resolves.toMatchObject({ phase: 'failed', reason: 'AmbiguousDigest' });
    });

    it('reports a run GitHub no longer knows as lost (GitHub API mocked with msw)', async () => {
      server.use(
        http.get(`${REPO}/actions/runs/${RUN_ID}`, () =>
          HttpResponse.json({ message: 'Not Found' }, { status: 404 }),
        ),
      );
      await expect(
        makeBuilder().status({ externalRef: REF }),
      ).resolves.toMatchObject({ phase: 'failed', reason: 'lost' });
    });

    it('throws other errors with the status and GitHub message, never the token (GitHub API mocked with msw)', async () => {
      server.use(
        http.get(`${REPO}/actions/runs/${RUN_ID}`, () =>
          HttpResponse.json(
            { message: 'API rate limit exceeded for installation ID 1.' },
            { status: 403 },
          ),
        ),
      );
      const error = await errorOf(makeBuilder().status({ externalRef: REF }));
      expect(error.message).toBe(
        `GitHub answered 403 to GET /repos/acme/fraud-detector/actions/runs/${RUN_ID}: API rate limit exceeded for installation ID 1.`,
      );
    });

    it('refuses a reference that is not its own', async () => {
      await expect(
        makeBuilder().status({ externalRef: 'dev/modelops-builds/job-1' }),
      ).rejects.toThrow('not a GitHub Actions build reference');
    });
  });

  describe('logs', () => {
    const logs: Record<number, string> = {
      301: '\ufeff2026-03-02T10:00:06.1Z checkout\n2026-03-02T10:00:07.2Z done\n',
      302: '2026-03-02T10:01:00.0Z build ✓ pushed',
    };
    const part1 = `=== test (success) ===\n${logs[301]!.slice(1)}`;
    const part2 = `=== push (success) ===\n${logs[302]}\n`;
    let downloads: Array<{ job: string; authorization: string | null }>;

    function answer(
      runFields: Record<string, unknown>,
      jobs: ReturnType<typeof job>[],
    ) {
      downloads = [];
      server.use(
        http.get(`${REPO}/actions/runs/${RUN_ID}`, () =>
          HttpResponse.json(run(runFields)),
        ),
        http.get(`${REPO}/actions/runs/${RUN_ID}/jobs`, () =>
          HttpResponse.json({ total_count: jobs.length, jobs }),
        ),
        http.get(`${REPO}/actions/jobs/:id/logs`, ({ params }) => {
          const id = Number(params.id);
          if (!jobs.find(j => j.id === id && j.status === 'completed'))
            return HttpResponse.json({ message: 'Not Found' }, { status: 404 });
          return new HttpResponse(null, {
            status: 302,
            headers: {
              Location: `${LOGS}/logs/${id}?sv=2024-08-04&sig=signed`,
            },
          });
        }),
        http.get(`${LOGS}/logs/:id`, ({ params, request: req }) => {
          downloads.push({
            job: String(params.id),
            authorization: req.headers.get('authorization'),
          });
          return new HttpResponse(logs[Number(params.id)], {
            headers: { 'Content-Type': 'text/plain' },
          });
        }),
      );
    }

    const done = { status: 'completed', conclusion: 'success' };

    it('concatenates the job logs, following the redirect without the token (GitHub API mocked with msw)', async () => {
      answer(done, [job(302, 'push'), job(301, 'test')]);
      const page = await makeBuilder().logs({
        externalRef: REF,
        limitBytes: 1 << 20,
      });
      expect(page).toEqual({
        text: part1 + part2,
        next: String(Buffer.byteLength(part1 + part2)),
        complete: true,
      });
      expect(downloads.map(d => d.job)).toEqual(['301', '302']);
      expect(downloads.every(d => d.authorization === null)).toBe(true);
    });

    it('pages by byte offset with after and limitBytes, never splitting a character (GitHub API mocked with msw)', async () => {
      answer(done, [job(301, 'test'), job(302, 'push')]);
      const builder = makeBuilder();
      const whole = Buffer.from(part1 + part2);
      let after: string | undefined;
      let text = '';
      const pages = [];
      for (let i = 0; i < 100; i++) {
        const page = await builder.logs({
          externalRef: REF,
          after,
          limitBytes: 17,
        });
        pages.push(page);
        expect(Buffer.byteLength(page.text)).toBeLessThanOrEqual(17);
        expect(page.text).not.toContain('\ufffd');
        text += page.text;
        after = page.next;
        if (page.complete) break;
        expect(page.truncated).toBe(true);
      }
      expect(text).toBe(whole.toString());
      expect(pages.length).toBeGreaterThan(4);
      expect(pages.at(-1)!.next).toBe(String(whole.length));

      const middle = await builder.logs({
        externalRef: REF,
        after: String(Buffer.byteLength(part1)),
        limitBytes: 1000,
      });
      expect(middle).toEqual({
        text: part2,
        next: String(whole.length),
        complete: true,
      });
      const past = await builder.logs({
        externalRef: REF,
        after: String(whole.length),
        limitBytes: 1000,
      });
      expect(past).toEqual({
        text: '',
        next: String(whole.length),
        complete: true,
      });
    });

    it('gives the completed jobs while the run is still running, then the rest (GitHub API mocked with msw)', async () => {
      const builder = makeBuilder();
      answer({ status: 'in_progress' }, [
        job(301, 'test'),
        job(302, 'push', { status: 'in_progress', conclusion: null }),
      ]);
      const first = await builder.logs({
        externalRef: REF,
        limitBytes: 1 << 20,
      });
      expect(first).toEqual({
        text: part1,
        next: String(Buffer.byteLength(part1)),
        complete: false,
      });
      answer(done, [job(301, 'test'), job(302, 'push')]);
      const second = await builder.logs({
        externalRef: REF,
        after: first.next,
        limitBytes: 1 << 20,
      });
      expect(second).toEqual({
        text: part2,
        next: String(Buffer.byteLength(part1 + part2)),
        complete: true,
      });
      // The first job's size was remembered: only the new job was downloaded.
      expect(downloads.map(d => d.job)).toEqual(['302']);
    });

    it('gives an empty page with a cursor before any job completed (GitHub API mocked with msw)', async () => {
      answer({ status: 'queued', conclusion: null }, []);
      await expect(
        makeBuilder().logs({ externalRef: REF, limitBytes: 100 }),
      ).resolves.toEqual({ text: '', next: '0', complete: false });
    });

    it('refuses a cursor that is not a byte offset', async () => {
      await expect(
        makeBuilder().logs({ externalRef: REF, after: 'abc', limitBytes: 1 }),
      ).rejects.toThrow('invalid log cursor');
    });
  });

  describe('cancel', () => {
    it('cancels a running run: 202 (GitHub API mocked with msw)', async () => {
      let auth: string | null = null;
      server.use(
        http.post(
          `${REPO}/actions/runs/${RUN_ID}/cancel`,
          ({ request: req }) => {
            auth = req.headers.get('authorization');
            return HttpResponse.json({}, { status: 202 });
          },
        ),
      );
      await expect(makeBuilder().cancel({ externalRef: REF })).resolves.toEqual(
        { cancelled: true },
      );
      expect(auth).toBe(`Bearer ${TOKEN}`);
    });

    it('reports a run that already completed as not cancelled: 409 (GitHub API mocked with msw)', async () => {
      server.use(
        http.post(`${REPO}/actions/runs/${RUN_ID}/cancel`, () =>
          HttpResponse.json(
            { message: 'Cannot cancel a workflow run that is completed.' },
            { status: 409 },
          ),
        ),
      );
      await expect(makeBuilder().cancel({ externalRef: REF })).resolves.toEqual(
        { cancelled: false },
      );
    });

    it('throws a 401 without the token (GitHub API mocked with msw)', async () => {
      server.use(
        http.post(`${REPO}/actions/runs/${RUN_ID}/cancel`, () =>
          HttpResponse.json({ message: 'Bad credentials' }, { status: 401 }),
        ),
      );
      const error = await errorOf(makeBuilder().cancel({ externalRef: REF }));
      expect(error.message).toMatch(/401.*Bad credentials/);
      expect(error.message).not.toContain(TOKEN);
    });
  });

  it('formats and parses its references', () => {
    const ref = {
      host: 'ghe.example.com:8443',
      owner: 'risk',
      repo: 'fraud.detector',
      runId: '42',
    };
    expect(formatExternalRef(ref)).toBe(
      'github-actions:ghe.example.com:8443/risk/fraud.detector/runs/42',
    );
    expect(parseExternalRef(formatExternalRef(ref))).toEqual(ref);
  });
});
