import { ConfigReader } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { ScmIntegrations } from '@backstage/integration';
import { resolveManifestUrl } from './location';

function entity(sourceLocation?: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: 'fraud-detector',
      annotations: sourceLocation
        ? { 'backstage.io/source-location': sourceLocation }
        : {},
    },
  };
}

describe('resolveManifestUrl', () => {
  it('keeps absolute URLs', () => {
    expect(
      resolveManifestUrl(entity(), 'url:https://git.example.com/a/b.yaml'),
    ).toBe('https://git.example.com/a/b.yaml');
  });

  it('keeps the last segment of a source location without a trailing slash', () => {
    expect(
      resolveManifestUrl(
        entity('url:https://git.example.com/risk/fraud-detector'),
        'deploy/app.yaml',
      ),
    ).toBe('https://git.example.com/risk/fraud-detector/deploy/app.yaml');
    expect(
      resolveManifestUrl(
        entity('url:https://git.example.com/risk/fraud-detector/'),
        './deploy/app.yaml',
      ),
    ).toBe('https://git.example.com/risk/fraud-detector/deploy/app.yaml');
  });

  it("resolves through the host's integration: tree paths and repository-rooted paths", () => {
    const integrations = ScmIntegrations.fromConfig(
      new ConfigReader({
        integrations: { github: [{ host: 'github.example.com' }] },
      }),
    );
    const base =
      'url:https://github.example.com/risk/fraud-detector/tree/main/service';
    expect(
      resolveManifestUrl(entity(base), 'deploy/app.yaml', integrations),
    ).toBe(
      'https://github.example.com/risk/fraud-detector/tree/main/service/deploy/app.yaml',
    );
    expect(
      resolveManifestUrl(entity(base), '/deploy/app.yaml', integrations),
    ).toBe(
      'https://github.example.com/risk/fraud-detector/tree/main/deploy/app.yaml',
    );
  });

  it('refuses a relative path without a source location to resolve it against', () => {
    expect(() => resolveManifestUrl(entity(), 'deploy/app.yaml')).toThrow(
      /has no backstage\.io\/source-location/,
    );
    expect(() =>
      resolveManifestUrl(entity('not a url'), 'deploy/app.yaml'),
    ).toThrow(/is not a URL/);
  });
});
