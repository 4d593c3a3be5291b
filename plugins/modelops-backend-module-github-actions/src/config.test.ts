import { ConfigReader } from '@backstage/config';
import { readGithubActionsConfig } from './config';

describe('readGithubActionsConfig', () => {
  it('needs no configuration', () => {
    expect(readGithubActionsConfig(new ConfigReader({}))).toEqual({
      workflow: 'modelops-build.yml',
    });
  });

  it('reads the workflow and the repository in both forms', () => {
    const read = (githubActions: object) =>
      readGithubActionsConfig(
        new ConfigReader({ modelops: { builds: { githubActions } } }),
      );
    expect(read({ workflow: 'build.yaml', repository: 'acme/images' })).toEqual(
      {
        workflow: 'build.yaml',
        repository: { owner: 'acme', repo: 'images' },
      },
    );
    expect(read({ repository: 'ghe.example.com/acme/images.git' })).toEqual({
      workflow: 'modelops-build.yml',
      repository: { host: 'ghe.example.com', owner: 'acme', repo: 'images' },
    });
  });

  it('names every bad or unknown key', () => {
    expect(() =>
      readGithubActionsConfig(
        new ConfigReader({
          modelops: {
            builds: {
              githubActions: {
                workflow: '../x.yml',
                repository: 'acme',
                workflows: 'build.yml',
              },
            },
          },
        }),
      ),
    ).toThrow(
      'Invalid modelops configuration: modelops.builds.githubActions.workflows: unknown key; ' +
        'modelops.builds.githubActions.workflow: must be a workflow file name such as modelops-build.yml, or a workflow id; ' +
        'modelops.builds.githubActions.repository: must be owner/name or host/owner/name, e.g. my-org/fraud-detector',
    );
  });
});
