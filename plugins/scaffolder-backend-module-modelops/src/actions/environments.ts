import { InputError } from '@backstage/errors';
import {
  ModelOpsActionsOptions,
  OperationContext,
  Zod,
  callModelOps,
} from './common';

/** The input of an environments check. */
export const checkEnvironmentsInputSchema = (z: Zod) =>
  z.object({
    environments: z
      .array(z.string().min(1).max(63))
      .min(1)
      .max(50)
      .describe(
        'Environment names the template will use, e.g. the environments a form parameter chose: each must be configured in modelops.environments, with its cluster.',
      ),
  });

/** The output of an environments check. */
export const checkEnvironmentsOutputSchema = (z: Zod) =>
  z.object({
    environments: z
      .array(z.string())
      .describe(
        'The checked environments, without duplicates, in input order.',
      ),
  });

/** The input of `modelops:environments:check`. @public */
export type ModelOpsCheckEnvironmentsInput = {
  /** Environment names, each of which must be configured in ModelOps. */
  environments: string[];
};

/** The output of `modelops:environments:check`. @public */
export type ModelOpsCheckEnvironmentsOutput = {
  /** The checked environments, without duplicates, in input order. */
  environments: string[];
};

/**
 * Checks environment names against the environments ModelOps has
 * configured, before a template creates anything: an unknown name, or one
 * whose cluster is not configured, fails with a message naming it and what
 * is configured.
 */
export async function checkEnvironments(
  options: ModelOpsActionsOptions,
  input: ModelOpsCheckEnvironmentsInput,
  context: OperationContext,
): Promise<ModelOpsCheckEnvironmentsOutput> {
  const { items } = await callModelOps(
    'Reading the ModelOps environments',
    () =>
      options.modelOps.getConfiguredEnvironments(
        {},
        { credentials: context.credentials },
      ),
  );
  const wanted = [...new Set(input.environments)];
  const configured = new Map(items.map(env => [env.name, env]));
  const unknown = wanted.filter(name => !configured.has(name));
  if (unknown.length) {
    throw new InputError(
      `${unknown.map(name => `"${name}"`).join(', ')} ${
        unknown.length === 1
          ? 'is not a configured ModelOps environment'
          : 'are not configured ModelOps environments'
      }; configured: ${items.map(env => env.name).join(', ') || 'none'}`,
    );
  }
  const broken = wanted.flatMap(name => {
    const error = configured.get(name)!.error;
    return error ? [error.message] : [];
  });
  if (broken.length) {
    throw new InputError(broken.join('; '));
  }
  context.logger.info(`ModelOps environments: ${wanted.join(', ')}`);
  return { environments: wanted };
}
