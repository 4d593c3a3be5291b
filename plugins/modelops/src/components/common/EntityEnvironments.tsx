import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { EntityEnvironmentsResponse } from '@modelops/plugin-modelops-common';
import type { ReactElement } from 'react';
import { useEntityEnvironments } from './useEntityEnvironments';

/** Loads the entity's environments and renders them, or loading and error states. */
export function EntityEnvironments(props: {
  children: (value: EntityEnvironmentsResponse) => ReactElement;
}) {
  const { value, loading, error } = useEntityEnvironments();
  if (loading) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  return props.children(value!);
}
