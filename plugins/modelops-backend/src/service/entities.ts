import {
  AuthService,
  BackstageCredentials,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  isModelService,
  ModelServiceContract,
  readModelServiceContract,
} from '@modelops/plugin-modelops-common';

/**
 * A model service loaded for one request: the entity, its full ref and its
 * parsed contract. Loaded once at the edge and passed to every service, so
 * nothing parses the annotations twice.
 */
export interface ModelServiceTarget {
  entity: Entity;
  ref: string;
  contract: ModelServiceContract;
}

/**
 * Parses a full entity ref (`kind:namespace/name`; namespace defaults to
 * `default`). Throws an InputError that names the ref.
 */
export function parseFullEntityRef(ref: string): string {
  if (ref.length > 512) {
    throw new InputError(
      `Entity ref is too long (${ref.length} characters, at most 512)`,
    );
  }
  try {
    return stringifyEntityRef(parseEntityRef(ref));
  } catch (error) {
    throw new InputError(
      `Malformed entity ref "${ref}": expected kind:namespace/name, e.g. component:default/fraud-detector`,
    );
  }
}

/**
 * Loads a model service entity with the caller's credentials, so the catalog's
 * own read permission applies: an entity the caller may not see is not found.
 */
export async function loadModelService(options: {
  catalog: CatalogService;
  entityRef: string;
  credentials: BackstageCredentials;
}): Promise<ModelServiceTarget> {
  const ref = parseFullEntityRef(options.entityRef);
  const entity = await options.catalog.getEntityByRef(ref, {
    credentials: options.credentials,
  });
  return toModelServiceTargetOf(ref, entity);
}

/**
 * The model service named `ref` as the services take it: a 404 when there is
 * no such entity (or the caller may not see it), a 400 when it is not a
 * model service.
 */
export function toModelServiceTargetOf(
  ref: string,
  entity: Entity | undefined,
): ModelServiceTarget {
  if (!entity) {
    throw new NotFoundError(`No entity named ${ref} in the catalog`);
  }
  if (!isModelService(entity)) {
    throw new InputError(
      `${ref} is not a model service: ModelOps works with Components whose spec.type is model-service`,
    );
  }
  return toModelServiceTarget(entity);
}

/** A model service entity as the services take it: with its full ref and parsed contract. */
export function toModelServiceTarget(entity: Entity): ModelServiceTarget {
  return {
    entity,
    ref: stringifyEntityRef(entity),
    contract: readModelServiceContract(entity),
  };
}

/**
 * Who is asking, as recorded in history: the user's entity ref, or
 * `service:<subject>`; `what` names the operation for the refusal.
 */
export function principalRef(
  auth: Pick<AuthService, 'isPrincipal'>,
  credentials: BackstageCredentials,
  what: string,
): string {
  if (auth.isPrincipal(credentials, 'user'))
    return credentials.principal.userEntityRef;
  if (auth.isPrincipal(credentials, 'service'))
    return `service:${credentials.principal.subject}`;
  throw new NotAllowedError(`${what} need a user or service principal`);
}
