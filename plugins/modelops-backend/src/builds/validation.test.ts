import {
  checkBuildArgs,
  parseSourceLocation,
  refProblem,
  repositoryPath,
} from './validation';

describe('refProblem', () => {
  it.each(['main', 'release/1.2', 'v0.1.0', 'feature_x-y', 'a'.repeat(40)])(
    'accepts %p',
    ref => expect(refProblem(ref)).toBeUndefined(),
  );

  it.each([
    ['--upload-pack=touch /tmp/x', 'starts with "-"'],
    ['main;rm -rf /', 'may hold only'],
    ['a..b', 'contains ".."'],
    ['a//b', 'contains "//"'],
    ['/main', 'starts or ends with "/"'],
    ['main.lock', 'ends with "." or ".lock"'],
    ['x/.hidden', 'has a part starting with "."'],
    ['main\nother', 'may hold only'],
    ['$(id)', 'may hold only'],
    ['', 'is empty'],
  ])('refuses %p: %s', (ref, problem) =>
    expect(refProblem(ref)).toContain(problem),
  );
});

describe('repositoryPath', () => {
  it('normalizes paths inside the repository', () => {
    expect(repositoryPath('contextPath', './models/fraud/')).toBe(
      'models/fraud',
    );
    expect(repositoryPath('contextPath', '.')).toBe('.');
    expect(repositoryPath('dockerfile', 'a/../Dockerfile')).toBe('Dockerfile');
  });

  it.each([
    ['../other', 'leaves the repository'],
    ['a/../../b', 'leaves the repository'],
    ['/etc/passwd', 'must be relative'],
    ['-f', 'must not start with "-"'],
    ['a b', 'may hold only'],
    ['a\\b', 'may hold only'],
  ])('refuses %p: %s', (value, problem) =>
    expect(() => repositoryPath('contextPath', value)).toThrow(problem),
  );
});

describe('checkBuildArgs', () => {
  it('lets through the allowed names', () => {
    expect(checkBuildArgs({ MODEL_VERSION: '3' }, ['MODEL_VERSION'])).toEqual({
      MODEL_VERSION: '3',
    });
    expect(checkBuildArgs(undefined, [])).toEqual({});
  });

  it('refuses other names and multi-line values, naming the field', () => {
    expect(() =>
      checkBuildArgs({ HTTP_PROXY: 'x' }, ['MODEL_VERSION']),
    ).toThrow(
      'buildArgs.HTTP_PROXY is not allowed: modelops.builds.allowedBuildArgs lists MODEL_VERSION',
    );
    expect(() =>
      checkBuildArgs({ MODEL_VERSION: '1\nRUN x' }, ['MODEL_VERSION']),
    ).toThrow('buildArgs.MODEL_VERSION must be one line of text');
  });
});

describe('parseSourceLocation', () => {
  it.each([
    [
      'url:https://github.com/acme/fraud/tree/main/service',
      {
        url: 'https://github.com/acme/fraud.git',
        ref: 'main',
        path: 'service',
      },
    ],
    [
      'https://gitlab.com/acme/fraud/-/tree/dev',
      { url: 'https://gitlab.com/acme/fraud.git', ref: 'dev', path: '.' },
    ],
    [
      'url:http://127.0.0.1:13000/modelops-demo/fraud-detector/src/branch/main/',
      {
        url: 'http://127.0.0.1:13000/modelops-demo/fraud-detector.git',
        ref: 'main',
        path: '.',
      },
    ],
    [
      'https://git.example.com/acme/fraud.git',
      { url: 'https://git.example.com/acme/fraud.git', path: '.' },
    ],
  ])('reads %p', (location, expected) =>
    expect(parseSourceLocation(location)).toEqual(expected),
  );

  it.each([
    ['file:///etc', 'must be an http(s) URL'],
    ['not a url', 'is not a URL'],
    ['https://user:secret@github.com/acme/fraud', 'must not carry credentials'],
    ['https://github.com/acme', 'names no repository'],
  ])('refuses %p: %s', (location, problem) =>
    expect(() => parseSourceLocation(location)).toThrow(problem),
  );
});
