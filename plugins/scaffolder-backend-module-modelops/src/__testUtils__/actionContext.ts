import { mockServices } from '@backstage/backend-test-utils';
import { ActionContext } from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { JsonObject } from '@backstage/types';

/** A step's context in task `task-1`, with a mock logger to assert on. */
export function stepContext<Input extends JsonObject>(
  step: { id: string; name: string },
  input: Input,
  extra: Partial<ActionContext<Input>> = {},
) {
  const logger = mockServices.logger.mock();
  const ctx = {
    ...createMockActionContext<Input>({
      input,
      task: { id: 'task-1' },
      logger,
    }),
    step,
    ...extra,
  };
  return { ctx, logger };
}
