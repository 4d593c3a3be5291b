/**
 * What a build request may say, checked before anything is recorded or
 * started: every rejection is a 400 naming the field.
 */
import { InputError } from '@backstage/errors';
import path from 'node:path/posix';

/**
 * A git ref name as `git check-ref-format` accepts it (branch, tag or
 * commit), without the forms a command line could mistake for an option.
 */
export function refProblem(ref: string): string | undefined {
  if (!ref) return 'is empty';
  if (ref.length > 255) return 'is longer than 255 characters';
  if (ref.startsWith('-')) return 'starts with "-"';
  if (!/^[A-Za-z0-9._\/-]+$/.test(ref))
    return 'may hold only letters, digits, ".", "_", "/" and "-"';
  if (ref.includes('..')) return 'contains ".."';
  if (ref.includes('//')) return 'contains "//"';
  if (ref.startsWith('/') || ref.endsWith('/'))
    return 'starts or ends with "/"';
  if (ref.endsWith('.') || ref.endsWith('.lock'))
    return 'ends with "." or ".lock"';
  if (ref.split('/').some(part => part.startsWith('.')))
    return 'has a part starting with "."';
  return undefined;
}

/**
 * A path inside the repository, normalized (`./a/b/` -> `a/b`, the root
 * `.`), or why not: absolute paths and paths that leave the repository are
 * refused.
 */
export function repositoryPath(field: string, value: string): string {
  if (value.length > 512)
    throw new InputError(`${field} is longer than 512 characters`);
  if (!/^[A-Za-z0-9._\/-]+$/.test(value))
    throw new InputError(
      `${field} may hold only letters, digits, ".", "_", "/" and "-", not ${JSON.stringify(
        value,
      )}`,
    );
  if (value.startsWith('/'))
    throw new InputError(
      `${field} must be relative to the repository, not ${JSON.stringify(
        value,
      )}`,
    );
  if (value.startsWith('-'))
    throw new InputError(`${field} must not start with "-"`);
  const normalized = path.normalize(value).replace(/\/+$/, '') || '.';
  if (normalized === '..' || normalized.startsWith('../'))
    throw new InputError(
      `${field} ${JSON.stringify(value)} leaves the repository`,
    );
  return normalized;
}

/** Build args, each name in the allowlist and each value one line. */
export function checkBuildArgs(
  args: Record<string, string> | undefined,
  allowed: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(args ?? {})) {
    if (!allowed.includes(name))
      throw new InputError(
        `buildArgs.${name} is not allowed: modelops.builds.allowedBuildArgs lists ${
          allowed.length ? allowed.join(', ') : 'none'
        }`,
      );
    if (typeof value !== 'string' || /[\r\n\0]/.test(value))
      throw new InputError(`buildArgs.${name} must be one line of text`);
    out[name] = value;
  }
  return out;
}

/**
 * Where the source of a build is: the git repository and the folder in it,
 * from a Backstage location (`url:https://host/org/repo/tree/main/dir`, a
 * GitHub, GitLab or Gitea browse URL, or a plain repository URL).
 */
export function parseSourceLocation(location: string): {
  url: string;
  ref?: string;
  path: string;
} {
  const raw = location.replace(/^url:/, '');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new InputError(
      `The source location ${JSON.stringify(
        location,
      )} is not a URL: set modelops/build-context or backstage.io/source-location to the repository's URL`,
    );
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new InputError(
      `The source location ${JSON.stringify(location)} must be an http(s) URL`,
    );
  if (u.username || u.password)
    throw new InputError(
      'The source location must not carry credentials: configure them in integrations',
    );
  const parts = u.pathname.split('/').filter(Boolean);
  // org/repo/tree/<ref>/<path> (GitHub), org/repo/-/tree/<ref>/<path>
  // (GitLab), org/repo/src/branch|tag|commit/<ref>/<path> (Gitea).
  let repoParts = parts;
  let ref: string | undefined;
  let rest: string[] = [];
  const at = (i: number) => parts[i];
  if (at(2) === 'tree' && parts.length >= 4) {
    repoParts = parts.slice(0, 2);
    ref = at(3);
    rest = parts.slice(4);
  } else if (at(2) === '-' && at(3) === 'tree' && parts.length >= 5) {
    repoParts = parts.slice(0, 2);
    ref = at(4);
    rest = parts.slice(5);
  } else if (
    at(2) === 'src' &&
    ['branch', 'tag', 'commit'].includes(at(3) ?? '') &&
    parts.length >= 5
  ) {
    repoParts = parts.slice(0, 2);
    ref = at(4);
    rest = parts.slice(5);
  }
  if (repoParts.length < 2)
    throw new InputError(
      `The source location ${JSON.stringify(
        location,
      )} names no repository (expected https://host/owner/repo...)`,
    );
  const repo = repoParts.join('/').replace(/\.git$/, '');
  return {
    url: `${u.protocol}//${u.host}/${repo}.git`,
    ...(ref ? { ref } : {}),
    path: rest.length
      ? repositoryPath('the source location', rest.join('/'))
      : '.',
  };
}
