import {
  imageInRepository,
  imageReferenceProblem,
  imageRepositoryProblem,
  parseImageReference,
  splitImageReference,
} from './imageReference';

describe('parseImageReference', () => {
  it.each([
    'nginx',
    'nginx:1.25',
    'library/nginx:latest',
    'registry.local/models/fraud-detector:1.2.3',
    'localhost:5000/a/b:c',
    'acme/fraud_scorer:v2-rc.1',
    `ghcr.io/org/img@sha256:${'a'.repeat(64)}`,
    `ghcr.io/org/img:1.0@sha256:${'b'.repeat(64)}`,
  ])('accepts %s', ref => {
    expect(parseImageReference(ref)).toBeDefined();
    expect(imageReferenceProblem(ref)).toBeUndefined();
  });

  it.each([
    '',
    'Nginx',
    'nginx:',
    'nginx latest',
    'nginx:1\nkind: Secret',
    'nginx:"1"',
    "nginx:'1'",
    'a//b',
    'nginx@sha256:short',
    `nginx@sha256:${'A'.repeat(64)}`,
    `nginx:${'x'.repeat(129)}`,
    `${'a'.repeat(256)}:1`,
    `a/${'b'.repeat(600)}`,
    '-nginx',
  ])('refuses %j', ref => {
    expect(parseImageReference(ref)).toBeUndefined();
    expect(imageReferenceProblem(ref)).toEqual(expect.any(String));
  });

  it('splits repository, tag and digest', () => {
    expect(parseImageReference('localhost:5000/a/b:c')).toEqual({
      repository: 'localhost:5000/a/b',
      tag: 'c',
      digest: undefined,
    });
    expect(splitImageReference('localhost:5000/model')).toEqual({
      repository: 'localhost:5000/model',
      tag: undefined,
      digest: undefined,
    });
  });
});

describe('imageReferenceProblem', () => {
  it.each([
    ['', /Enter the full image reference/],
    ['ghcr.io/acme/fraud scorer:1', /cannot contain spaces/],
    ['ghcr.io/acme/fraud-scorer@sha256:abc', /digest is "sha256:"/],
    ['ghcr.io/acme/fraud-scorer:-bad', /A tag has up to 128/],
    ['ghcr.io/Acme/Fraud:1', /Repository names are lowercase/],
    ['ghcr.io/acme//x:1', /is not a valid repository/],
  ])('explains %j', (value, message) => {
    expect(imageReferenceProblem(value)).toMatch(message);
  });

  it('asks for a tag or digest only when told to', () => {
    expect(imageReferenceProblem('ghcr.io/acme/m')).toBeUndefined();
    expect(
      imageReferenceProblem('ghcr.io/acme/m', { requireTagOrDigest: true }),
    ).toMatch(/Add a tag \(e\.g\. ghcr\.io\/acme\/m:1\.4\.2\)/);
  });

  it('uses the example it is given', () => {
    expect(imageReferenceProblem(' ', { example: 'ghcr.io/acme/x' })).toBe(
      'Enter the full image reference, e.g. ghcr.io/acme/x:1.4.2',
    );
  });
});

describe('image repositories', () => {
  it('refuses a tag or digest in a repository', () => {
    expect(imageRepositoryProblem('registry.local/a/b')).toBeUndefined();
    expect(imageRepositoryProblem('registry.local/a/b:1')).toMatch(/no tag/);
    expect(imageRepositoryProblem('Registry/A')).toMatch(/lowercase/);
  });

  it('matches repositories, including Docker Hub shorthand', () => {
    expect(
      imageInRepository('registry.local/a/b:1', 'registry.local/a/b'),
    ).toBe(true);
    expect(
      imageInRepository('registry.local/a/bc:1', 'registry.local/a/b'),
    ).toBe(false);
    expect(imageInRepository('nginx:1', 'docker.io/library/nginx')).toBe(true);
    expect(imageInRepository('not an image', 'not')).toBe(false);
  });
});
