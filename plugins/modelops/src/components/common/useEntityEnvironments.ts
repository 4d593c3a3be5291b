import { stringifyEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { modelOpsApiRef } from '../../api';

/** Loads the environments the backend resolves for the current entity. */
export function useEntityEnvironments() {
  const { entity } = useEntity();
  const api = useApi(modelOpsApiRef);
  const entityRef = stringifyEntityRef(entity);
  const state = useAsyncRetry(
    () => api.getEnvironments({ entityRef }),
    [api, entityRef],
  );
  return { entityRef, ...state };
}
