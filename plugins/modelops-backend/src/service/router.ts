import { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import express from 'express';
import { createOpenApiRouter } from '../schema/openapi';
import { AuthorizedBuildService } from './AuthorizedBuildService';
import { AuthorizedDeploymentService } from './AuthorizedDeploymentService';
import { AuthorizedMonitoringService } from './AuthorizedMonitoringService';

/** The fields of a build trigger (TriggerBuildRequest). */
const TRIGGER_FIELDS = new Set([
  'entityRef',
  'idempotencyKey',
  'ref',
  'contextPath',
  'dockerfile',
  'buildArgs',
  'deployTo',
  'rebuild',
]);

/** Largest inline manifest set a deploy request may carry. */
export const MAX_INLINE_MANIFEST_BYTES = 1024 * 1024;

export interface RouterOptions {
  httpAuth: HttpAuthService;
  deployments: AuthorizedDeploymentService;
  builds: AuthorizedBuildService;
  monitoring: AuthorizedMonitoringService;
}

/**
 * The HTTP edge: the router generated from `src/schema/openapi.yaml` checks
 * every request against the spec (400 with the failing field otherwise),
 * then each route takes the caller's credentials and hands the typed request
 * to the service, which loads the entity and checks permissions.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, deployments, builds, monitoring } = options;
  const outer = express.Router();
  // Parsed before the spec router, so an oversize body is a 413 with the
  // limit rather than a validation error.
  outer.use(express.json({ limit: MAX_INLINE_MANIFEST_BYTES + 64 * 1024 }));

  // The spec refuses unknown fields of a build trigger without naming them;
  // an image (or anything else) a trigger may not choose is named here.
  outer.post('/builds', (req, _res, next) => {
    const body = req.body;
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const unknown = Object.keys(body).filter(k => !TRIGGER_FIELDS.has(k));
      if (unknown.length)
        throw new InputError(
          `A build trigger takes ${[...TRIGGER_FIELDS].join(
            ', ',
          )}; not ${unknown.join(
            ', ',
          )} (the image repository is the entity's modelops/image)`,
        );
    }
    next();
  });

  const router = await createOpenApiRouter();
  const credentialsOf = (req: express.Request<any, any, any, any, any>) =>
    httpAuth.credentials(req, { allow: ['user', 'service'] });

  router.get('/environments', async (req, res) => {
    res.json(
      await deployments.environments({
        entityRef: req.query.entityRef,
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.get('/environments/configured', async (req, res) => {
    await credentialsOf(req);
    res.json(deployments.configuredEnvironments());
  });

  router.get('/deployments/status', async (req, res) => {
    res.json(
      await deployments.status({
        entityRef: req.query.entityRef,
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.get('/deployments', async (req, res) => {
    res.json(
      await deployments.history({
        ...req.query,
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.post('/deployments', async (req, res) => {
    const result = await deployments.deploy({
      request: req.body,
      credentials: await credentialsOf(req),
      httpRequest: req,
    });
    res.status(req.body.dryRun ? 200 : 201).json(result);
  });

  router.post('/deployments/:id/rollback', async (req, res) => {
    const body = req.body ?? {};
    const result = await deployments.rollback({
      deploymentId: req.params.id,
      dryRun: body.dryRun,
      force: body.force,
      prune: body.prune,
      credentials: await credentialsOf(req),
      httpRequest: req,
    });
    res.status(body.dryRun ? 200 : 201).json(result);
  });

  router.get('/deployments/:id/analysis', async (req, res) => {
    res.json(
      await deployments.analysis({
        deploymentId: req.params.id,
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.post('/deployments/:id/analysis/cancel', async (req, res) => {
    res.json(
      await deployments.cancelAnalysis({
        deploymentId: req.params.id,
        credentials: await credentialsOf(req),
        httpRequest: req,
      }),
    );
  });

  router.get('/builds', async (req, res) => {
    res.json(
      await builds.list({
        ...req.query,
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.post('/builds', async (req, res) => {
    const { build, created, reused } = await builds.trigger({
      request: req.body,
      credentials: await credentialsOf(req),
      httpRequest: req,
    });
    // Says which of the two 200s it is: an earlier build of the same inputs
    // (not the one this key made).
    if (reused) res.setHeader('ModelOps-Build-Reused', 'true');
    res.status(created ? 201 : 200).json(build);
  });

  router.get('/builds/:id', async (req, res) => {
    res.json(
      await builds.get({
        id: req.params.id,
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.get('/builds/:id/logs', async (req, res) => {
    res.json(
      await builds.logs({
        id: req.params.id,
        ...req.query,
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.post('/builds/:id/cancel', async (req, res) => {
    res.json(
      await builds.cancel({
        id: req.params.id,
        credentials: await credentialsOf(req),
        httpRequest: req,
      }),
    );
  });

  router.get('/health', async (req, res) => {
    res.json(
      await monitoring.health({
        entityRef: req.query.entityRef,
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.post('/health/query', async (req, res) => {
    res.json(
      await monitoring.query({
        request: req.body ?? {},
        credentials: await credentialsOf(req),
      }),
    );
  });

  router.get('/metrics', async (req, res) => {
    res.json(
      await monitoring.metrics({
        ...req.query,
        credentials: await credentialsOf(req),
      }),
    );
  });

  outer.use(router);
  return outer;
}
