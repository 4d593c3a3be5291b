import { Entity } from '@backstage/catalog-model';
import {
  EmptyState,
  MissingAnnotationEmptyState,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  ANNOTATION_KUBERNETES_ID,
  isModelService,
  readModelServiceContract,
} from '@modelops/plugin-modelops-common';
import type { ReactElement } from 'react';

/**
 * Renders its children only for model services whose required annotations
 * are present; otherwise explains what to add.
 */
export function ModelServiceGate(props: {
  children: (entity: Entity) => ReactElement;
}) {
  const { entity } = useEntity();
  if (!isModelService(entity)) {
    return (
      <EmptyState
        missing="info"
        title="Not a model service"
        description="ModelOps works with catalog Components whose spec.type is model-service."
      />
    );
  }
  const contract = readModelServiceContract(entity);
  if (!contract.kubernetesId) {
    return (
      <MissingAnnotationEmptyState annotation={ANNOTATION_KUBERNETES_ID} />
    );
  }
  return props.children(entity);
}
