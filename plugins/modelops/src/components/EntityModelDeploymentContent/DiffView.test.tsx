import { render, screen, within } from '@testing-library/react';
import { DiffView } from './DiffView';

describe('DiffView', () => {
  it('counts and marks the objects pruning deletes', () => {
    render(
      <DiffView
        title="Preview (dry run)"
        diff={[
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'fraud-scorer',
            operation: 'update',
            changes: [
              {
                path: 'spec.template.spec.containers[0].image',
                before: 'ghcr.io/acme/fraud-scorer:1.4.2',
                after: 'ghcr.io/acme/fraud-scorer:1.5.0',
              },
            ],
          },
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'fraud-scorer-features',
            operation: 'delete',
            changes: [],
          },
          {
            apiVersion: 'v1',
            kind: 'Service',
            name: 'fraud-scorer',
            operation: 'unchanged',
            changes: [],
          },
        ]}
      />,
    );
    const preview = screen.getByRole('region', { name: 'Preview (dry run)' });
    expect(
      within(preview).getByText(
        '3 objects: 1 to update, 1 to delete, 1 unchanged',
      ),
    ).toBeInTheDocument();

    const deleted = within(preview).getByRole('region', {
      name: 'ConfigMap fraud-scorer-features',
    });
    const chip = within(deleted).getByText('delete').closest('.MuiChip-root');
    expect(chip).toHaveClass('MuiChip-root');
    expect(chip!.className).toMatch(/ModelOpsDiffView-deleteChip/);
    expect(
      within(deleted).getByText(
        'No longer in the manifests: applying deletes it from the cluster.',
      ),
    ).toBeInTheDocument();

    // The other objects keep their own chips.
    const deployment = within(preview).getByRole('region', {
      name: 'Deployment fraud-scorer',
    });
    expect(
      within(deployment).getByText('update').closest('.MuiChip-root')!
        .className,
    ).not.toMatch(/deleteChip/);
    expect(
      within(
        within(preview).getByRole('region', { name: 'Service fraud-scorer' }),
      ).getByText('No changes.'),
    ).toBeInTheDocument();
  });
});
