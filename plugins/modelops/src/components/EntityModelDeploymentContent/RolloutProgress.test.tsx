import { renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import {
  deploymentRecord,
  environmentStatus,
} from '../../__testUtils__/modelOpsBackend';
import { RolloutProgress } from './OperationDialog';

const canaryDeploy = deploymentRecord({
  revision: 8,
  image: 'ghcr.io/acme/fraud-scorer:1.5.0',
});

describe('RolloutProgress of a canary release', () => {
  it("follows the canary's pods, not the stable Deployment's", async () => {
    await renderInTestApp(
      <RolloutProgress
        canary
        deployment={canaryDeploy}
        status={environmentStatus({
          revision: 7,
          canary: {
            deployments: ['fraud-scorer-canary'],
            phase: 'Progressing',
            image: 'ghcr.io/acme/fraud-scorer:1.5.0',
            revision: 8,
            replicas: { desired: 1, updated: 1, ready: 0, available: 0 },
          },
        })}
      />,
    );
    expect(
      screen.getByText(
        'Applied revision 8: ghcr.io/acme/fraud-scorer:1.5.0 to dev as a canary',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('Following the rollout…')).toBeInTheDocument();
    expect(
      screen.getByText('1 of 1 replicas updated, 0 ready'),
    ).toBeInTheDocument();
  });

  it('says when the canary is ready, and when its analysis has ended', async () => {
    const ready = environmentStatus({
      revision: 7,
      canary: {
        deployments: ['fraud-scorer-canary'],
        phase: 'Available',
        revision: 8,
        replicas: { desired: 1, updated: 1, ready: 1, available: 1 },
      },
    });
    const { rerender } = await renderInTestApp(
      <RolloutProgress canary deployment={canaryDeploy} status={ready} />,
    );
    expect(
      screen.getByText(/Canary ready: its analysis decides the rest/),
    ).toBeInTheDocument();
    // Removed, and the history rolled back to the stable release as revision 9.
    rerender(
      <RolloutProgress
        canary
        deployment={canaryDeploy}
        status={environmentStatus({ revision: 9 })}
      />,
    );
    expect(
      screen.getByText(/The canary's analysis has ended/),
    ).toBeInTheDocument();
  });
});
