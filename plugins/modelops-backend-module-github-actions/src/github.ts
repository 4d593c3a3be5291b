/**
 * The few GitHub REST calls the builder makes, with plain `fetch`: the API
 * base URL and credentials of the repository's host come from Backstage's
 * GitHub integrations (tokens and GitHub Apps alike), and no error message
 * ever carries a credential.
 */
import {
  GithubCredentialsProvider,
  ScmIntegrationRegistry,
} from '@backstage/integration';

/** One repository on one GitHub host. */
export interface GithubRepository {
  host: string;
  owner: string;
  repo: string;
}

/** How long one request to GitHub may take. */
export const REQUEST_TIMEOUT_MS = 30_000;
const API_VERSION = '2022-11-28';

/** GitHub answered with an unexpected status. */
export class GithubApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'GithubApiError';
  }
}

/** The API path of a repository, every part encoded. */
export function repoPath(repository: GithubRepository): string {
  return `/repos/${encodeURIComponent(repository.owner)}/${encodeURIComponent(
    repository.repo,
  )}`;
}

/** `message` of a GitHub error answer, or a short excerpt of a non-JSON one. */
async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (typeof body?.message === 'string') return body.message;
  } catch {
    // Not JSON: the text itself.
  }
  return text.trim().slice(0, 200) || response.statusText || 'no message';
}

/** Removes every occurrence of the secrets from a message. */
function redact(message: string, secrets: Array<string | undefined>): string {
  let out = message;
  for (const secret of secrets)
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  return out;
}

export class GithubApi {
  constructor(
    private readonly options: {
      integrations: ScmIntegrationRegistry;
      credentials: GithubCredentialsProvider;
    },
  ) {}

  /** The API base URL of a host with a GitHub integration; throws naming the host otherwise. */
  apiBaseUrl(host: string): string {
    const integration = this.options.integrations.github.byHost(host);
    if (!integration)
      throw new Error(
        `${host} has no GitHub integration: add it under integrations.github (with a token or a GitHub App) to build with GitHub Actions`,
      );
    return (
      integration.config.apiBaseUrl?.replace(/\/+$/, '') ??
      `https://${host}/api/v3`
    );
  }

  private async auth(
    repository: GithubRepository,
  ): Promise<{ headers: Record<string, string>; token?: string }> {
    const { headers, token } = await this.options.credentials.getCredentials({
      url: `https://${repository.host}/${repository.owner}/${repository.repo}`,
    });
    if (!headers || !token)
      throw new Error(
        `integrations.github has no credentials for ${repository.host}: configure a token or a GitHub App there`,
      );
    return { headers, token };
  }

  /**
   * One request against a repository's API (`path` after `/repos/o/r`,
   * already encoded). Answers any status; a network failure or timeout
   * throws naming the request.
   */
  async request(
    repository: GithubRepository,
    method: string,
    path: string,
    options: {
      query?: Record<string, string>;
      body?: unknown;
      redirect?: RequestRedirect;
    } = {},
  ): Promise<{ response: Response; describe: string; secret?: string }> {
    const base = this.apiBaseUrl(repository.host);
    const { headers, token } = await this.auth(repository);
    const query = options.query
      ? `?${new URLSearchParams(options.query).toString()}`
      : '';
    const describe = `${method} ${repoPath(repository)}${path}`;
    try {
      const response = await fetch(
        `${base}${repoPath(repository)}${path}${query}`,
        {
          method,
          headers: {
            Accept: 'application/vnd.github+json',
            'X-GitHub-Api-Version': API_VERSION,
            ...(options.body !== undefined
              ? { 'Content-Type': 'application/json' }
              : {}),
            ...headers,
          },
          body:
            options.body !== undefined
              ? JSON.stringify(options.body)
              : undefined,
          redirect: options.redirect ?? 'follow',
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        },
      );
      return { response, describe, secret: token };
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause;
      throw new Error(
        redact(
          `GitHub (${repository.host}) did not answer ${describe}: ${
            (error as Error).message
          }${cause?.message ? ` (${cause.message})` : ''}`,
          [token],
        ),
      );
    }
  }

  /** The error for an unexpected answer: its status and GitHub's message, never a credential. */
  async fail(
    answer: { response: Response; describe: string; secret?: string },
    what?: string,
  ): Promise<GithubApiError> {
    const { response, describe, secret } = answer;
    const message = await errorMessage(response);
    return new GithubApiError(
      redact(
        `${what ? `${what}: ` : ''}GitHub answered ${
          response.status
        } to ${describe}: ${message}`,
        [secret],
      ),
      response.status,
    );
  }

  /** A JSON answer of a GET; any status but 2xx throws. */
  async getJson<T>(
    repository: GithubRepository,
    path: string,
    query?: Record<string, string>,
  ): Promise<T> {
    const answer = await this.request(repository, 'GET', path, { query });
    if (!answer.response.ok) throw await this.fail(answer);
    return (await answer.response.json()) as T;
  }

  /**
   * Fetches a URL GitHub redirected to (a short-lived log download on
   * another host) without any credential.
   */
  async download(url: string): Promise<Response> {
    try {
      return await fetch(url, {
        redirect: 'follow',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(
        `the log download from ${new URL(url).host} failed: ${
          (error as Error).message
        }`,
      );
    }
  }
}
