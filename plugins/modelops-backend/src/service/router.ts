import {
  AuditorService,
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { modelOpsDeploymentCreatePermission } from '@modelops/plugin-modelops-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { DeploymentStore } from '../database/DeploymentStore';
import { DeploymentService } from './DeploymentService';
import { loadModelService } from './entities';
import { EnvironmentService } from './EnvironmentService';

/** Largest inline manifest set a deploy request may carry. */
export const MAX_INLINE_MANIFEST_BYTES = 1024 * 1024;

/** Parses a request's query or body, turning zod issues into an InputError. */
export function parseRequest<T extends z.ZodTypeAny>(
  schema: T,
  value: unknown,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new InputError(
      `Invalid ${what}: ${result.error.issues
        .map(i => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

const entityRefField = z
  .string({ required_error: 'is required' })
  .min(1, 'is required');
const environmentField = z.string().min(1).max(63);

const entityQuery = z.object({ entityRef: entityRefField });

const historyQuery = z.object({
  entityRef: entityRefField,
  environment: environmentField.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(200).optional(),
});

const deployBody = z
  .object({
    entityRef: entityRefField,
    environment: environmentField,
    image: z.string().min(1).max(512).optional(),
    fromEnvironment: environmentField.optional(),
    manifests: z
      .string()
      .max(
        MAX_INLINE_MANIFEST_BYTES,
        `must be at most ${MAX_INLINE_MANIFEST_BYTES} characters`,
      )
      .optional(),
    dryRun: z.boolean().default(false),
    force: z.boolean().default(false),
  })
  .strict()
  .refine(b => !(b.image !== undefined && b.fromEnvironment !== undefined), {
    message: 'pass either image or fromEnvironment, not both',
  });

const rollbackBody = z
  .object({
    dryRun: z.boolean().default(false),
    force: z.boolean().default(false),
  })
  .strict();

const deploymentId = z
  .string()
  .regex(/^[0-9a-f-]{36}$/, 'is not a deployment id');

export interface RouterOptions {
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  catalog: CatalogService;
  environments: EnvironmentService;
  deployments: DeploymentService;
  store: DeploymentStore;
}

function principalRef(credentials: BackstageCredentials): string {
  const principal = credentials.principal as
    | { type: 'user'; userEntityRef: string }
    | { type: 'service'; subject: string };
  return principal.type === 'user'
    ? principal.userEntityRef
    : `service:${principal.subject}`;
}

export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const {
    httpAuth,
    permissions,
    auditor,
    catalog,
    environments,
    deployments,
    store,
  } = options;
  const router = Router();
  // Inline manifests plus the rest of the body; larger bodies get a 413.
  router.use(express.json({ limit: MAX_INLINE_MANIFEST_BYTES + 64 * 1024 }));

  async function authorizeDeploy(
    credentials: BackstageCredentials,
    entityRef: string,
  ) {
    const [decision] = await permissions.authorize(
      [
        {
          permission: modelOpsDeploymentCreatePermission,
          resourceRef: entityRef,
        },
      ],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You may not deploy ${entityRef}: that needs the modelops.deployment.create permission on it, which the service's owners and platform admins have`,
      );
    }
  }

  router.get('/environments', async (req, res) => {
    const { entityRef } = parseRequest(entityQuery, req.query, 'query');
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const target = await loadModelService({ catalog, entityRef, credentials });
    res.json(environments.resolve({ target }));
  });

  router.get('/deployments/status', async (req, res) => {
    const { entityRef } = parseRequest(entityQuery, req.query, 'query');
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const target = await loadModelService({ catalog, entityRef, credentials });
    res.json(await deployments.status({ target }));
  });

  router.get('/deployments', async (req, res) => {
    const query = parseRequest(historyQuery, req.query, 'query');
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const target = await loadModelService({
      catalog,
      entityRef: query.entityRef,
      credentials,
    });
    const page = await store.list({
      entityRef: target.ref,
      environment: query.environment,
      limit: query.limit,
      cursor: query.cursor,
    });
    res.json({ items: page.items, nextCursor: page.nextCursor });
  });

  router.post('/deployments', async (req, res) => {
    const body = parseRequest(deployBody, req.body, 'deploy request');
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const target = await loadModelService({
      catalog,
      entityRef: body.entityRef,
      credentials,
    });
    const entityRef = target.ref;
    const event = await auditor.createEvent({
      eventId: 'deploy',
      severityLevel: body.dryRun ? 'low' : 'medium',
      request: req,
      meta: {
        entityRef,
        environment: body.environment,
        dryRun: body.dryRun,
        force: body.force,
        action: body.fromEnvironment ? 'promote' : 'deploy',
      },
    });
    try {
      await authorizeDeploy(credentials, entityRef);
      const result = await deployments.deploy({
        target,
        environment: body.environment,
        image: body.image,
        fromEnvironment: body.fromEnvironment,
        manifests: body.manifests,
        dryRun: body.dryRun,
        force: body.force,
        requestedBy: principalRef(credentials),
      });
      await event.success({
        meta: {
          deploymentId: result.deployment.id,
          revision: result.deployment.revision ?? null,
        },
      });
      res.status(body.dryRun ? 200 : 201).json(result);
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  });

  router.post('/deployments/:id/rollback', async (req, res) => {
    const id = parseRequest(deploymentId, req.params.id, 'deployment id');
    const body = parseRequest(rollbackBody, req.body ?? {}, 'rollback request');
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const deployment = await deployments.getDeployment(id);
    // A deployment of an entity the caller may not see does not exist for
    // them: the answer must not reveal the entity.
    const target = await loadModelService({
      catalog,
      entityRef: deployment.entityRef,
      credentials,
    }).catch(error => {
      if (error?.name === 'NotFoundError') {
        throw new NotFoundError(`No deployment with id ${id}`);
      }
      throw error;
    });
    const event = await auditor.createEvent({
      eventId: 'rollback',
      severityLevel: body.dryRun ? 'low' : 'medium',
      request: req,
      meta: {
        entityRef: deployment.entityRef,
        targetDeploymentId: id,
        dryRun: body.dryRun,
      },
    });
    try {
      await authorizeDeploy(credentials, deployment.entityRef);
      const result = await deployments.rollback({
        target,
        deployment,
        dryRun: body.dryRun,
        force: body.force,
        requestedBy: principalRef(credentials),
      });
      await event.success({ meta: { deploymentId: result.deployment.id } });
      res.status(body.dryRun ? 200 : 201).json(result);
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  });

  return router;
}
