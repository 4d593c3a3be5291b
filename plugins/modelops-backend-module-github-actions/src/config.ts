import { Config } from '@backstage/config';

/** The validated `modelops.builds.githubActions` block. */
export interface GithubActionsConfig {
  /** The workflow's file name or id. */
  workflow: string;
  /** Dispatch in this repository instead of the source's. */
  repository?: { host?: string; owner: string; repo: string };
}

export const DEFAULT_WORKFLOW = 'modelops-build.yml';
const KEY = 'modelops.builds.githubActions';
const KEYS = ['workflow', 'repository'];
/** A workflow file name (`build.yml`) or id (`161335`). */
const WORKFLOW = /^[A-Za-z0-9_.-]+$/;
/** GitHub owner and repository names. */
export const NAME = /^[A-Za-z0-9_.-]+$/;
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/**
 * Reads `modelops.builds.githubActions`; every key is optional. Throws an
 * error naming each bad or unknown key, so the backend refuses to start with
 * a misconfiguration instead of failing builds later.
 */
export function readGithubActionsConfig(config: Config): GithubActionsConfig {
  const block = config.getOptionalConfig(KEY);
  if (!block) return { workflow: DEFAULT_WORKFLOW };
  const problems = block
    .keys()
    .filter(k => !KEYS.includes(k))
    .map(k => `${KEY}.${k}: unknown key`);
  const workflow = block.getOptionalString('workflow')?.trim();
  if (workflow !== undefined && !WORKFLOW.test(workflow))
    problems.push(
      `${KEY}.workflow: must be a workflow file name such as modelops-build.yml, or a workflow id`,
    );
  const raw = block.getOptionalString('repository')?.trim();
  let repository: GithubActionsConfig['repository'];
  if (raw !== undefined) {
    const parts = raw.split('/');
    const [host, owner, repo] =
      parts.length === 3 ? parts : [undefined, ...parts];
    if (
      (parts.length !== 2 && parts.length !== 3) ||
      (host !== undefined && !HOST.test(host)) ||
      !NAME.test(owner ?? '') ||
      !NAME.test(repo ?? '')
    )
      problems.push(
        `${KEY}.repository: must be owner/name or host/owner/name, e.g. my-org/fraud-detector`,
      );
    else
      repository = {
        ...(host ? { host } : {}),
        owner: owner!,
        repo: repo!.replace(/\.git$/, ''),
      };
  }
  if (problems.length)
    throw new Error(`Invalid modelops configuration: ${problems.join('; ')}`);
  return { workflow: workflow || DEFAULT_WORKFLOW, repository };
}
