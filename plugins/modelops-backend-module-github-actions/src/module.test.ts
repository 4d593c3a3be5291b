import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import {
  ModelOpsImageBuilder,
  modelOpsImageBuildersExtensionPoint,
} from '@modelops/plugin-modelops-node';
import { setupServer } from 'msw/node';
import { registerMswTestHooks } from '@backstage/backend-test-utils';
import modelOpsModuleGithubActions from './index';

// No handlers: any request to GitHub at start-up fails the test.
const server = setupServer();
registerMswTestHooks(server);

describe('modelOpsModuleGithubActions (GitHub API mocked with msw)', () => {
  function extensionPoint() {
    const added: Array<
      | ModelOpsImageBuilder
      | ((d: ReadonlyMap<string, ModelOpsImageBuilder>) => ModelOpsImageBuilder)
    > = [];
    return {
      added,
      mock: {
        addImageBuilder: (b: (typeof added)[number]) => {
          added.push(b);
        },
      },
    };
  }

  it('registers the github-actions builder with no configuration and no call to GitHub', async () => {
    const { added, mock } = extensionPoint();
    const backend = await startTestBackend({
      extensionPoints: [[modelOpsImageBuildersExtensionPoint, mock]],
      features: [modelOpsModuleGithubActions],
    });
    expect(added).toHaveLength(1);
    expect((added[0] as ModelOpsImageBuilder).type).toBe('github-actions');
    await backend.stop();
  });

  it('starts with its configuration and GitHub integrations', async () => {
    const { added, mock } = extensionPoint();
    const backend = await startTestBackend({
      extensionPoints: [[modelOpsImageBuildersExtensionPoint, mock]],
      features: [
        modelOpsModuleGithubActions,
        mockServices.rootConfig.factory({
          data: {
            integrations: {
              github: [{ host: 'github.com', token: 'ghp_start' }],
            },
            modelops: {
              builds: {
                githubActions: {
                  workflow: 'build-image.yml',
                  repository: 'acme/images',
                },
              },
            },
          },
        }),
      ],
    });
    expect(added).toHaveLength(1);
    await backend.stop();
  });

  it('refuses to start with a misspelled key', async () => {
    const { mock } = extensionPoint();
    await expect(
      startTestBackend({
        extensionPoints: [[modelOpsImageBuildersExtensionPoint, mock]],
        features: [
          modelOpsModuleGithubActions,
          mockServices.rootConfig.factory({
            data: { modelops: { builds: { githubActions: { workflw: 'x' } } } },
          }),
        ],
      }),
    ).rejects.toThrow('modelops.builds.githubActions.workflw: unknown key');
  });
});
