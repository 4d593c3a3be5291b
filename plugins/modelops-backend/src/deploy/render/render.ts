import { InputError } from '@backstage/errors';
import {
  imageInRepository,
  imageReferenceProblem,
} from '@modelops/plugin-modelops-common';
import { KubeObject } from '../../kubernetes/types';
import {
  ANNOTATION_ENTITY_REF,
  ANNOTATION_ENVIRONMENT,
  ANNOTATION_REVISION,
  applySetId,
  LABEL_APPLYSET_PART_OF,
  LABEL_KUBERNETES_ID,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
} from '../labels';
import { BUILTIN_MODEL_CONTAINERS } from './templates';

/** What `renderManifests` stamps on every object. */
export interface RenderOptions {
  namespace: string;
  kubernetesId: string;
  entityRef: string;
  /**
   * The environment deployed to: with the entity ref it names the set the
   * objects belong to (the ApplySet label pruning looks for).
   */
  environment?: string;
  /** Image for the model container; when absent the manifests' images are kept. */
  image?: string;
  /** The entity's `modelops/image` repository, to pick the model container. */
  imageRepository?: string;
  /** Stamped as `modelops/revision`; see also `stampRevision`. */
  revision?: number;
}

type Container = { name?: string; image?: unknown; [k: string]: unknown };

/**
 * The model container of a pod: the one whose image is in the entity's
 * `modelops/image` repository, else the one a built-in template names
 * (`model-server`, `kserve-container`), else the first.
 */
export function modelContainer<C extends Container>(
  containers: readonly C[],
  imageRepository: string | undefined,
): C | undefined {
  if (imageRepository) {
    const match = containers.find(
      c =>
        typeof c.image === 'string' &&
        imageInRepository(c.image, imageRepository),
    );
    if (match) return match;
  }
  return (
    containers.find(c => BUILTIN_MODEL_CONTAINERS.includes(c.name ?? '')) ??
    containers[0]
  );
}

function isDeployment(obj: KubeObject): boolean {
  return obj.kind === 'Deployment' && obj.apiVersion === 'apps/v1';
}

function isInferenceService(obj: KubeObject): boolean {
  return (
    obj.kind === 'InferenceService' &&
    obj.apiVersion.startsWith('serving.kserve.io/')
  );
}

function containersOf(obj: KubeObject): Container[] | undefined {
  const spec = obj.spec as Record<string, any> | undefined;
  if (isDeployment(obj)) return spec?.template?.spec?.containers;
  if (isInferenceService(obj)) return spec?.predictor?.containers;
  return undefined;
}

/** The image of the model container of the first workload that has one. */
export function modelImageOf(
  objects: readonly KubeObject[],
  imageRepository: string | undefined,
): string | undefined {
  for (const obj of objects) {
    const containers = containersOf(obj);
    const image = containers?.length
      ? modelContainer(containers, imageRepository)?.image
      : (obj.spec as any)?.predictor?.model?.image;
    if (typeof image === 'string' && image) return image;
  }
  return undefined;
}

/** Throws an InputError unless `image` is an image reference. */
export function checkImage(image: string): void {
  const problem = imageReferenceProblem(image);
  if (problem) {
    throw new InputError(
      `"${image.slice(0, 300)}" is not a valid image reference: ${problem}`,
    );
  }
}

function setModelImage(
  obj: KubeObject,
  options: RenderOptions,
  what: string,
  problems: string[],
  imageless: string[],
): void {
  const containers = containersOf(obj);
  if (options.image !== undefined) {
    if (containers?.length) {
      modelContainer(containers, options.imageRepository)!.image =
        options.image;
    } else if (
      isInferenceService(obj) &&
      (obj.spec as any)?.predictor?.model &&
      typeof (obj.spec as any).predictor.model === 'object'
    ) {
      (obj.spec as any).predictor.model.image = options.image;
    } else {
      problems.push(
        isDeployment(obj)
          ? `${what} has no containers to set the image on`
          : `${what} has no predictor container (spec.predictor.containers) to set the image on`,
      );
    }
    return;
  }
  for (const c of containers ?? []) {
    if (typeof c.image !== 'string' || !c.image) {
      imageless.push(`${what}: container "${c.name ?? '?'}"`);
    }
  }
}

/**
 * Returns copies of the objects ready to apply: namespace forced (an object
 * naming another namespace is refused), ModelOps labels on objects and
 * Deployment pod templates, the ApplySet membership label, entity and
 * revision annotations, and the image set on the model container (without
 * an image, every workload container must name its own). Never mutates its
 * input. The only place an image enters the objects, so the only place it
 * is checked.
 */
export function renderManifests(
  objects: readonly KubeObject[],
  options: RenderOptions,
): KubeObject[] {
  if (options.image !== undefined) checkImage(options.image);
  const problems: string[] = [];
  const imageless: string[] = [];
  const stampLabels = {
    [LABEL_KUBERNETES_ID]: options.kubernetesId,
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  };
  const setLabels: Record<string, string> =
    options.environment !== undefined
      ? {
          [LABEL_APPLYSET_PART_OF]: applySetId(
            options.entityRef,
            options.environment,
          ),
        }
      : {};
  const rendered = objects.map((input, i) => {
    const obj = structuredClone(input) as KubeObject;
    const what = `${obj.kind} "${obj.metadata?.name}" (object ${i + 1})`;
    const ns = obj.metadata.namespace;
    if (ns !== undefined && ns !== options.namespace) {
      problems.push(
        `${what} names namespace "${ns}", but this environment deploys to "${options.namespace}"; remove metadata.namespace or set it to "${options.namespace}"`,
      );
    }
    obj.metadata.namespace = options.namespace;
    obj.metadata.labels = {
      ...(obj.metadata.labels ?? {}),
      ...stampLabels,
      ...setLabels,
    };
    obj.metadata.annotations = {
      ...(obj.metadata.annotations ?? {}),
      ...(options.revision !== undefined
        ? { [ANNOTATION_REVISION]: String(options.revision) }
        : {}),
      [ANNOTATION_ENTITY_REF]: options.entityRef,
      ...(options.environment !== undefined
        ? { [ANNOTATION_ENVIRONMENT]: options.environment }
        : {}),
    };
    if (isDeployment(obj)) {
      const spec = (obj.spec ?? {}) as Record<string, any>;
      const template = (spec.template ??= {});
      template.metadata ??= {};
      template.metadata.labels = {
        ...(template.metadata.labels ?? {}),
        ...stampLabels,
      };
      obj.spec = spec;
    }
    if (isDeployment(obj) || isInferenceService(obj)) {
      setModelImage(obj, options, what, problems, imageless);
    }
    return obj;
  });
  if (imageless.length) {
    problems.unshift(
      `An image is required: ${imageless.join(
        ', ',
      )} names no image of its own; pass image (a full reference such as registry/repo:tag, set on the model container) or fromEnvironment, or write the images into the manifests`,
    );
  }
  if (problems.length) {
    throw new InputError(`Cannot render manifests: ${problems.join('; ')}`);
  }
  return rendered;
}

/** Copies of rendered objects carrying the revision a deploy was given. */
export function stampRevision(
  objects: readonly KubeObject[],
  revision: number,
): KubeObject[] {
  return objects.map(o => ({
    ...o,
    metadata: {
      ...o.metadata,
      annotations: {
        ...(o.metadata.annotations ?? {}),
        [ANNOTATION_REVISION]: String(revision),
      },
    },
  }));
}
