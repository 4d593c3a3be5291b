/**
 * The `github-actions` image builder: a build is one run of a
 * `workflow_dispatch` workflow in the model service's repository (see
 * examples/github-actions/modelops-build.yml). The workflow reports the
 * pushed digest as a job annotation titled `modelops-digest`, so the digest
 * is read from the run's check annotations, not parsed from a log.
 *
 * externalRef: `github-actions:<host>/<owner>/<repo>/runs/<run id>`.
 */
import {
  GithubCredentialsProvider,
  ScmIntegrationRegistry,
} from '@backstage/integration';
import {
  ModelOpsBuildLogs,
  ModelOpsBuildRequest,
  ModelOpsBuildStatus,
  ModelOpsImageBuilder,
  ModelOpsTriggeredBuild,
} from '@modelops/plugin-modelops-node';
import { GithubActionsConfig, NAME } from './config';
import { GithubApi, GithubRepository } from './github';

export const GITHUB_ACTIONS_BUILDER = 'github-actions';
/** The title of the annotation that carries the pushed digest. */
export const DIGEST_ANNOTATION = 'modelops-digest';
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const SHA = /^[0-9a-f]{40}$/;
const REF = /^github-actions:([^/]+)\/([^/]+)\/([^/]+)\/runs\/([0-9]+)$/;
/** Run statuses before a runner picked the run up. */
const QUEUED = new Set(['queued', 'waiting', 'requested', 'pending']);
/** How far before the dispatch a run found by listing may have been created (clock skew). */
const LIST_WINDOW_MS = 60_000;
/** A job log longer than this is cut there (with a line saying so). */
export const MAX_JOB_LOG_BYTES = 16 << 20;
/** A completed job's missing log counts as "not yet uploaded" this long after the run ended. */
const LOG_GRACE_MS = 2 * 60_000;
/** Job log sizes remembered, so paging does not download the jobs before the cursor again. */
const SIZE_CACHE_ENTRIES = 1000;

interface Run {
  id: number;
  status: string | null;
  conclusion: string | null;
  html_url: string;
  display_title?: string;
  run_started_at?: string;
  updated_at?: string;
}

interface Job {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
}

interface Annotation {
  title?: string | null;
  message?: string | null;
}

/** A build's run on GitHub. */
interface RunRef extends GithubRepository {
  runId: string;
}

export function formatExternalRef(ref: RunRef): string {
  return `github-actions:${ref.host}/${ref.owner}/${ref.repo}/runs/${ref.runId}`;
}

export function parseExternalRef(externalRef: string): RunRef {
  const m = REF.exec(externalRef);
  if (!m)
    throw new Error(`not a GitHub Actions build reference: ${externalRef}`);
  return { host: m[1]!, owner: m[2]!, repo: m[3]!, runId: m[4]! };
}

/** The GitHub repository of a source URL: `https://host/owner/repo(.git)`. */
export function repositoryOf(url: string): GithubRepository {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`the source URL ${JSON.stringify(url)} is not a URL`);
  }
  const [owner, name] = u.pathname.split('/').filter(Boolean);
  const repo = name?.replace(/\.git$/, '');
  if (!owner || !repo || !NAME.test(owner) || !NAME.test(repo))
    throw new Error(
      `the source URL ${url} names no GitHub repository (expected https://${u.host}/owner/name)`,
    );
  return { host: u.host, owner, repo };
}

/** The longest prefix of `bytes` of at most `max` bytes that ends on a UTF-8 character boundary (one character at least). */
function cutAt(bytes: Buffer, max: number): number {
  if (bytes.length <= max) return bytes.length;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  if (end > 0) return end;
  end = 1;
  while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end++;
  return end;
}

function parseCursor(after: string | undefined): number {
  if (after === undefined || after === '') return 0;
  if (!/^[0-9]{1,15}$/.test(after))
    throw new Error(`invalid log cursor ${JSON.stringify(after)}`);
  return Number(after);
}

export class GithubActionsBuilder implements ModelOpsImageBuilder {
  readonly type = GITHUB_ACTIONS_BUILDER;
  private readonly api: GithubApi;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Byte size of each completed job's part of the log, by job. */
  private readonly sizes = new Map<string, number>();

  constructor(
    private readonly options: {
      config: GithubActionsConfig;
      integrations: ScmIntegrationRegistry;
      credentials: GithubCredentialsProvider;
      /** Waits between looks for a dispatched run (tests pass a fake). */
      sleep?: (ms: number) => Promise<void>;
      /** How often and how far apart to look for a run GitHub did not name. */
      findRunAttempts?: number;
      findRunIntervalMs?: number;
    },
  ) {
    this.api = new GithubApi(options);
    this.sleep =
      options.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)));
  }

  /** Where a build's workflow runs: the configured repository, else the source's. */
  private repositoryFor(request: ModelOpsBuildRequest): GithubRepository {
    const source = repositoryOf(request.source.url);
    const override = this.options.config.repository;
    if (!override) return source;
    return {
      host: override.host ?? source.host,
      owner: override.owner,
      repo: override.repo,
    };
  }

  async trigger(options: {
    request: ModelOpsBuildRequest;
  }): Promise<ModelOpsTriggeredBuild> {
    const { request } = options;
    const { ref } = request.source;
    if (SHA.test(ref))
      throw new Error(
        `GitHub dispatches a workflow on a branch or tag, and ${ref} is a commit: build a branch or tag with the ${GITHUB_ACTIONS_BUILDER} builder (the build still records the commit it resolves to)`,
      );
    const repository = this.repositoryFor(request);
    const workflow = encodeURIComponent(this.options.config.workflow);
    const path = `/actions/workflows/${workflow}/dispatches`;
    const body = {
      ref,
      inputs: {
        build_id: request.buildId,
        image: request.image.repository,
        tag: request.image.tag,
        commit: request.source.commit ?? '',
        context: request.source.contextPath,
        dockerfile: request.source.dockerfile,
        build_args: JSON.stringify(request.buildArgs),
      },
    };
    const dispatchedAt = Date.now();
    let answer = await this.api.request(repository, 'POST', path, {
      body: { ...body, return_run_details: true },
    });
    if (answer.response.status === 400 || answer.response.status === 422) {
      // A GitHub Enterprise Server that predates run details refuses the field.
      const refused = await this.api.fail(
        answer,
        `dispatching ${this.options.config.workflow}`,
      );
      if (!/return_run_details/.test(refused.message)) throw refused;
      answer = await this.api.request(repository, 'POST', path, { body });
    }
    if (answer.response.status === 200) {
      const details = (await answer.response.json()) as {
        workflow_run_id?: number;
        html_url?: string;
      };
      if (typeof details.workflow_run_id !== 'number')
        throw new Error(
          `GitHub dispatched ${this.options.config.workflow} but named no run (${answer.describe})`,
        );
      return {
        externalRef: formatExternalRef({
          ...repository,
          runId: String(details.workflow_run_id),
        }),
        ...(details.html_url ? { url: details.html_url } : {}),
      };
    }
    if (answer.response.status === 404)
      throw await this.api.fail(
        answer,
        `dispatching ${this.options.config.workflow} (the workflow must be on the default branch of ${repository.owner}/${repository.repo}, and the credentials must see the repository)`,
      );
    if (answer.response.status !== 204)
      throw await this.api.fail(
        answer,
        `dispatching ${this.options.config.workflow}`,
      );
    const run = await this.findRun(repository, request.buildId, dispatchedAt);
    return {
      externalRef: formatExternalRef({ ...repository, runId: String(run.id) }),
      url: run.html_url,
    };
  }

  /**
   * The run of a dispatch GitHub answered without run details: the
   * workflow's run name (`run-name`) carries the build id.
   */
  private async findRun(
    repository: GithubRepository,
    buildId: string,
    dispatchedAt: number,
  ): Promise<Run> {
    const workflow = encodeURIComponent(this.options.config.workflow);
    const attempts = this.options.findRunAttempts ?? 5;
    const interval = this.options.findRunIntervalMs ?? 2000;
    const since = new Date(dispatchedAt - LIST_WINDOW_MS)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await this.sleep(interval);
      const { workflow_runs: runs = [] } = await this.api.getJson<{
        workflow_runs?: Run[];
      }>(repository, `/actions/workflows/${workflow}/runs`, {
        event: 'workflow_dispatch',
        created: `>=${since}`,
        per_page: '100',
      });
      const run = runs.find(r => r.display_title?.includes(buildId));
      if (run) return run;
    }
    throw new Error(
      `GitHub accepted the dispatch of ${this.options.config.workflow} in ${repository.owner}/${repository.repo}, but no run named after build ${buildId} appeared: the workflow must set run-name: ModelOps build \${{ inputs.build_id }}`,
    );
  }

  private async getRun(ref: RunRef): Promise<Run | undefined> {
    const answer = await this.api.request(
      ref,
      'GET',
      `/actions/runs/${ref.runId}`,
    );
    if (answer.response.status === 404) return undefined;
    if (!answer.response.ok) throw await this.api.fail(answer);
    return (await answer.response.json()) as Run;
  }

  /** The run's jobs (its latest attempt), oldest first. */
  private async listJobs(ref: RunRef): Promise<Job[]> {
    const jobs: Job[] = [];
    for (let page = 1; page <= 10; page++) {
      const body = await this.api.getJson<{ jobs?: Job[] }>(
        ref,
        `/actions/runs/${ref.runId}/jobs`,
        { per_page: '100', page: String(page) },
      );
      jobs.push(...(body.jobs ?? []));
      if ((body.jobs ?? []).length < 100) break;
    }
    return jobs.sort((a, b) => a.id - b.id);
  }

  /** The digests the run's jobs reported through `modelops-digest` annotations. */
  private async digests(ref: RunRef): Promise<Set<string>> {
    const found = new Set<string>();
    for (const job of await this.listJobs(ref)) {
      // A job's id is also its check run's.
      const annotations = await this.api.getJson<Annotation[]>(
        ref,
        `/check-runs/${job.id}/annotations`,
        { per_page: '100' },
      );
      for (const a of annotations) {
        const message = a.message?.trim() ?? '';
        if (a.title?.trim() === DIGEST_ANNOTATION && DIGEST.test(message))
          found.add(message);
      }
    }
    return found;
  }

  async status(options: { externalRef: string }): Promise<ModelOpsBuildStatus> {
    const ref = parseExternalRef(options.externalRef);
    const run = await this.getRun(ref);
    if (!run)
      return {
        phase: 'failed',
        reason: 'lost',
        message: `the workflow run ${ref.runId} no longer exists in ${ref.host}/${ref.owner}/${ref.repo}`,
      };
    const startedAt = run.run_started_at
      ? { startedAt: run.run_started_at }
      : {};
    if (run.status !== 'completed') {
      if (run.status === 'in_progress')
        return { phase: 'running', ...startedAt };
      if (!run.status || QUEUED.has(run.status))
        return { phase: 'queued', ...startedAt };
      return { phase: 'running', ...startedAt };
    }
    const times = {
      ...startedAt,
      ...(run.updated_at ? { finishedAt: run.updated_at } : {}),
    };
    if (run.conclusion === 'cancelled')
      return {
        phase: 'cancelled',
        reason: 'cancelled',
        message: `the workflow run was cancelled: ${run.html_url}`,
        ...times,
      };
    if (run.conclusion !== 'success') {
      const conclusion = run.conclusion || 'unknown';
      return {
        phase: 'failed',
        reason: conclusion,
        message: `the workflow run ended with conclusion ${conclusion}: ${run.html_url}`,
        ...times,
      };
    }
    const digests = await this.digests(ref);
    if (digests.size === 1)
      return { phase: 'succeeded', digest: [...digests][0], ...times };
    if (digests.size > 1)
      return {
        phase: 'failed',
        reason: 'AmbiguousDigest',
        message: `the workflow run reported ${
          digests.size
        } different digests (${[...digests].join(
          ', ',
        )}); a build pushes one image: ${run.html_url}`,
        ...times,
      };
    return {
      phase: 'failed',
      reason: 'NoDigest',
      message: `the workflow run succeeded but reported no image digest: a step must print ::notice title=${DIGEST_ANNOTATION}::sha256:<digest> (see examples/github-actions/modelops-build.yml): ${run.html_url}`,
      ...times,
    };
  }

  /**
   * A job's part of the build log: a heading and the job's log, or
   * undefined while GitHub has no log for it yet.
   */
  private async jobPart(
    ref: RunRef,
    job: Job,
    run: Run,
  ): Promise<{ bytes: Buffer; cut: boolean } | undefined> {
    const heading = Buffer.from(
      `=== ${job.name} (${job.conclusion ?? 'completed'}) ===\n`,
    );
    if (job.conclusion === 'skipped') return { bytes: heading, cut: false };
    const answer = await this.api.request(
      ref,
      'GET',
      `/actions/jobs/${job.id}/logs`,
      { redirect: 'manual' },
    );
    let response = answer.response;
    if ([301, 302, 303, 307, 308].includes(response.status)) {
      const location = response.headers.get('location');
      if (!location)
        throw new Error(
          `GitHub answered ${response.status} without a location to ${answer.describe}`,
        );
      response = await this.api.download(
        new URL(location, response.url || undefined).toString(),
      );
    }
    if (response.status === 404 || response.status === 410) {
      const endedAt = run.updated_at ? Date.parse(run.updated_at) : NaN;
      const settled =
        run.status === 'completed' && Date.now() - endedAt > LOG_GRACE_MS;
      if (!settled) return undefined;
      return {
        bytes: Buffer.concat([
          heading,
          Buffer.from('(GitHub has no log of this job)\n'),
        ]),
        cut: false,
      };
    }
    if (!response.ok) {
      if (response === answer.response) throw await this.api.fail(answer);
      throw new Error(
        `the log download of job ${job.id} answered ${response.status}`,
      );
    }
    const { bytes, cut } = await readCapped(response, MAX_JOB_LOG_BYTES);
    // Job logs start with a byte order mark.
    let body =
      bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
        ? bytes.subarray(3)
        : bytes;
    // Cut at the last whole line, so no character is split.
    if (cut) body = body.subarray(0, body.lastIndexOf(0x0a) + 1);
    const parts = [heading, body];
    if (body.length && body[body.length - 1] !== 0x0a)
      parts.push(Buffer.from('\n'));
    if (cut)
      parts.push(
        Buffer.from(
          `(the rest of this log, over ${
            MAX_JOB_LOG_BYTES >> 20
          } MiB, is on GitHub: ${run.html_url})\n`,
        ),
      );
    return { bytes: Buffer.concat(parts), cut };
  }

  private remember(key: string, size: number) {
    if (this.sizes.size >= SIZE_CACHE_ENTRIES)
      this.sizes.delete(this.sizes.keys().next().value!);
    this.sizes.set(key, size);
  }

  /**
   * The build log is the run's job logs, oldest job first, each under a
   * heading; `after` is a byte offset into it. GitHub gives a job's log once
   * the job completed, so the log grows a job at a time, and only while
   * every earlier job has completed: what a page gave never changes.
   */
  async logs(options: {
    externalRef: string;
    after?: string;
    limitBytes: number;
  }): Promise<ModelOpsBuildLogs> {
    const ref = parseExternalRef(options.externalRef);
    const start = parseCursor(options.after);
    const limit = Math.max(1, options.limitBytes);
    const run = await this.getRun(ref);
    if (!run) return { text: '', next: String(start), complete: true };
    const jobs = await this.listJobs(ref);
    const chunks: Buffer[] = [];
    let length = 0;
    let offset = 0;
    let ended = true;
    let truncated = false;
    for (const job of jobs) {
      if (job.status !== 'completed') {
        ended = false;
        break;
      }
      if (length >= limit) {
        // The page is full and this job's part follows on the next.
        truncated = true;
        ended = false;
        break;
      }
      const key = `${ref.host}/${ref.owner}/${ref.repo}/${job.id}`;
      const known = this.sizes.get(key);
      if (known !== undefined && offset + known <= start) {
        offset += known;
        continue;
      }
      const part = await this.jobPart(ref, job, run);
      if (!part) {
        ended = false;
        break;
      }
      this.remember(key, part.bytes.length);
      const from = Math.max(0, start - offset);
      offset += part.bytes.length;
      if (from >= part.bytes.length) continue;
      const rest = part.bytes.subarray(from);
      const take = cutAt(rest, limit - length);
      chunks.push(rest.subarray(0, take));
      length += take;
      if (part.cut) truncated = true;
      if (take < rest.length) {
        truncated = true;
        ended = false;
        break;
      }
    }
    return {
      text: Buffer.concat(chunks).toString('utf8'),
      next: String(start + length),
      complete: run.status === 'completed' && ended,
      ...(truncated ? { truncated } : {}),
    };
  }

  async cancel(options: {
    externalRef: string;
  }): Promise<{ cancelled: boolean }> {
    const ref = parseExternalRef(options.externalRef);
    const answer = await this.api.request(
      ref,
      'POST',
      `/actions/runs/${ref.runId}/cancel`,
    );
    if (answer.response.status === 202) return { cancelled: true };
    // 409: the run already completed; 404: it no longer exists.
    if (answer.response.status === 409 || answer.response.status === 404)
      return { cancelled: false };
    throw await this.api.fail(answer, 'cancelling the workflow run');
  }
}

/** A response body up to `max` bytes, and whether there was more. */
async function readCapped(
  response: Response,
  max: number,
): Promise<{ bytes: Buffer; cut: boolean }> {
  if (!response.body) return { bytes: Buffer.alloc(0), cut: false };
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), cut: false };
    chunks.push(Buffer.from(value));
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return { bytes: Buffer.concat(chunks).subarray(0, max), cut: true };
    }
  }
}
