import { splitImageReference, validateImageReference } from './imageReference';

describe('validateImageReference', () => {
  it.each([
    'ghcr.io/acme/fraud-scorer:1.4.2',
    'localhost:5000/fraud-scorer:latest',
    'acme/fraud_scorer:v2-rc.1',
    `ghcr.io/acme/fraud-scorer@sha256:${'a'.repeat(64)}`,
    `ghcr.io/acme/fraud-scorer:1.4.2@sha256:${'0'.repeat(64)}`,
  ])('accepts %s', value => {
    expect(validateImageReference(value)).toBeUndefined();
  });

  it.each([
    ['', /Enter the full image reference/],
    ['ghcr.io/acme/fraud scorer:1', /cannot contain spaces/],
    ['ghcr.io/acme/fraud-scorer', /Add a tag/],
    ['ghcr.io/acme/fraud-scorer@sha256:abc', /digest is "sha256:"/],
    ['ghcr.io/acme/fraud-scorer:-bad', /A tag has up to 128/],
    ['ghcr.io/Acme/Fraud:1', /Repository names are lowercase/],
    ['ghcr.io/acme//x:1', /is not a valid repository/],
  ])('rejects %j', (value, message) => {
    expect(validateImageReference(value)).toMatch(message);
  });

  it('uses the example it is given', () => {
    expect(validateImageReference(' ', 'ghcr.io/acme/fraud-scorer')).toBe(
      'Enter the full image reference, e.g. ghcr.io/acme/fraud-scorer:1.4.2',
    );
  });
});

describe('splitImageReference', () => {
  it('tells a registry port from a tag', () => {
    expect(splitImageReference('localhost:5000/model')).toEqual({
      repository: 'localhost:5000/model',
      tag: undefined,
      digest: undefined,
    });
    expect(splitImageReference('localhost:5000/model:2')).toEqual({
      repository: 'localhost:5000/model',
      tag: '2',
      digest: undefined,
    });
  });
});
