import { HttpAuthService, LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { loadModelService } from './entities';
import { EnvironmentService } from './EnvironmentService';

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

const entityQuery = z.object({
  entityRef: z.string({ required_error: 'is required' }).min(1, 'is required'),
});

export interface RouterOptions {
  logger: LoggerService;
  httpAuth: HttpAuthService;
  catalog: CatalogService;
  environments: EnvironmentService;
}

export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, catalog, environments } = options;
  const router = Router();
  router.use(express.json({ limit: '1mb' }));

  router.get('/environments', async (req, res) => {
    const { entityRef } = parseRequest(entityQuery, req.query, 'query');
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const entity = await loadModelService({ catalog, entityRef, credentials });
    res.json(environments.resolve({ entity }));
  });

  return router;
}
